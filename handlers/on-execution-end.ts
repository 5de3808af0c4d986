/**
 * EventBridge "Step Functions Execution Status Change" (ABORTED, FAILED, TIMED_OUT) → the run's
 * terminal status, for the ends the state machine cannot record itself: a user's stop runs no
 * Catch, and a crash or timeout skips the recording states. The write is conditional, so a
 * status the pipeline already recorded stays. The run then gets its report (from what its jobs
 * left) and its notice, each only if it has none yet.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { type Root, root } from "../aws/root.js";
import { sendRunNotice } from "../aws/run-notice.js";
import { writeRunReport } from "../aws/run-report.js";
import { ENDS_TO_RECORD, endFields, parseEndedInput, reportSource } from "../core/execution-end.js";

const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });

export const StatusChange = z.object({
  "detail-type": z.literal("Step Functions Execution Status Change"),
  detail: z.object({
    executionArn: z.string(),
    name: z.string().min(1),
    status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

const isEndToRecord = (status: string): status is (typeof ENDS_TO_RECORD)[number] =>
  (ENDS_TO_RECORD as readonly string[]).includes(status);

export function makeHandler(deps: {
  root: Pick<Root, "runs" | "notices" | "objects">;
  now: () => Date;
}) {
  return async (event: unknown): Promise<{ runId: string; status?: string; notice?: string }> => {
    const { detail } = StatusChange.parse(event);
    const runId = detail.name;
    const runs = deps.root.runs();
    const run = await runs.get(runId);
    if (!run) {
      logger.warn("status change for an execution that is not a modeldrop run", { ...detail });
      return { runId };
    }
    const status = detail.status;
    if (!isEndToRecord(status)) return { runId };
    const input = parseEndedInput(detail.input);
    const recorded = await runs.update(
      runId,
      endFields(run, { status, error: detail.error, cause: detail.cause }, input, deps.now()),
    );
    // The pipeline's own BuildReport did not run on these ends (or ran before a crash).
    const ended = await runs.require(runId);
    if (!ended.report && input) {
      // A report that cannot be written must not cost the run its notice.
      await writeRunReport(runs, deps.root.objects(), reportSource(runId, input)).catch(
        (error: unknown) => logger.error("the run's report could not be written", { runId, error }),
      );
    }
    const notice = await sendRunNotice(runs, deps.root.notices(), runId);
    const final = (await runs.require(runId)).status;
    logger.info("execution end recorded", {
      runId,
      execution: status,
      status: final,
      recorded,
      notice,
    });
    return { runId, status: final, notice };
  };
}

export const handler = makeHandler({ root, now: () => new Date() });
