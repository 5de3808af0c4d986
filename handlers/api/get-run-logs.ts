/**
 * GET /runs/{id}/logs?step=: a job's log. Without a cursor, the newest events (a tail); with
 * the `next` of an earlier answer, what was logged since, so a client follows by polling.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { LOG_STEPS, ROUTES } from "../../core/api.js";
import { InvalidRequest } from "../../core/errors.js";
import { JOB_LOG_GROUPS } from "../../core/pipeline-state.js";
import type { Run } from "../../core/run-record.js";
import { jobName } from "../../core/runs.js";
import { apiRoute } from "./http.js";

type LogStep = (typeof LOG_STEPS)[number];

/** `t`: CloudWatch's forward token; absent while the job had not logged yet. */
const LogCursor = z.object({ s: z.enum(LOG_STEPS), t: z.string().min(1).optional() });

function decode(cursor: string): z.infer<typeof LogCursor> {
  try {
    return LogCursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch (error) {
    throw new InvalidRequest("cursor is not one this API gave out", {
      field: "cursor",
      cause: error,
    });
  }
}

function encode(step: LogStep, token: string | undefined): string {
  return Buffer.from(JSON.stringify({ s: step, ...(token ? { t: token } : {}) })).toString(
    "base64url",
  );
}

/** The running job's step, else the last job step that ran, else the first. */
export function defaultLogStep(run: Run): LogStep {
  const steps = LOG_STEPS as readonly string[];
  if (run.step && steps.includes(run.step)) return run.step as LogStep;
  if (run.failure && steps.includes(run.failure.step)) return run.failure.step as LogStep;
  const ran = LOG_STEPS.filter((step) => run.steps?.[step]);
  return ran.at(-1) ?? "preprocess";
}

export function makeHandler(deps: { root: Pick<Root, "runs" | "jobLogs"> }) {
  return apiRoute(ROUTES.getRunLogs, async ({ params, query }) => {
    const run = await deps.root.runs().require(params.id);
    const cursor = query.cursor ? decode(query.cursor) : undefined;
    if (cursor && query.step && cursor.s !== query.step)
      throw new InvalidRequest("cursor belongs to another step's log", { field: "cursor" });
    const step = cursor?.s ?? query.step ?? defaultLogStep(run);
    const group = JOB_LOG_GROUPS[step];
    const job = jobName(run.id, step);
    const logs = deps.root.jobLogs();
    const stream = await logs.stream(group, job);
    const page = stream
      ? await logs.read(
          group,
          stream,
          query.limit,
          cursor ? (cursor.t ? { token: cursor.t } : "head") : "tail",
        )
      : { events: [] };
    return {
      status: 200,
      body: {
        runId: run.id,
        step,
        job,
        logGroup: group,
        events: page.events,
        next: encode(step, "next" in page ? page.next : cursor?.t),
      },
    };
  });
}

export const handler = makeHandler({ root });
