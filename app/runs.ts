/**
 * What the REST API does with runs: start one on an inbox object, batch predictions on an
 * inputs/ object, retry, cancel, read one (with its links, progress and notice deliveries),
 * list them, and page through a job's log.
 */
import { z } from "zod";
import {
  JobStepName,
  type LogsQuery,
  type PredictBody,
  type RunDetail,
  type StartRunBody,
} from "../core/api.js";
import {
  apiRunId,
  checkTrainable,
  newTrainingRun,
  objectKey,
  PREDICTION_INPUT_PREFIX,
  requestHash,
} from "../core/api-runs.js";
import { INBOX_PREFIX } from "../core/drops.js";
import { Conflict, InvalidRequest, NotFound } from "../core/errors.js";
import { parseRunOptions } from "../core/options.js";
import { jobLogGroup } from "../core/pipeline-state.js";
import { predictionContent } from "../core/predict-input.js";
import { latestProgress } from "../core/progress.js";
import { newRunId } from "../core/run-ids.js";
import type { Run } from "../core/run-record.js";
import {
  type LinkedObject,
  outputKeys,
  outputLocations,
  plotKeys,
  plotsPrefix,
  type RunLinks,
  toRunDetail,
} from "../core/run-view.js";
import { isTerminal, jobName } from "../core/runs.js";
import { parseS3Uri } from "../core/s3-uri.js";
import {
  type LaunchSettings,
  launchPrediction,
  launchTrainingRun,
  recordAndLaunchTrainingRun,
  withPinnedCode,
} from "./launch.js";
import { sendRunNotice } from "./notice.js";
import type { Ports, RunFilter, RunListPage } from "./ports.js";

/** Where the API keeps what it is given: the data bucket, and the deployment's settings. */
export interface ApiSettings extends LaunchSettings {
  bucket: string;
}

/** POST /runs: a training run on an object under inbox/; an Idempotency-Key names the run. */
export async function startRun(
  ports: Pick<Ports, "runs" | "objects" | "pipeline" | "code" | "now">,
  body: z.output<typeof StartRunBody>,
  idempotencyKey: string | undefined,
  settings: ApiSettings,
): Promise<Run> {
  const { bucket } = settings;
  const key = objectKey(body.input, bucket, INBOX_PREFIX);
  // The body's schema is the options' shape; these are the rules beyond it (size, unsupported).
  const options = parseRunOptions(body.options ?? {});
  const head = await ports.objects.head(bucket, key, body.versionId);
  if (!head)
    throw new NotFound(
      "object",
      `s3://${bucket}/${key}${body.versionId ? ` version ${body.versionId}` : ""} does not exist`,
    );
  checkTrainable(key, head.size);
  const hash = idempotencyKey === undefined ? undefined : requestHash(body);
  // A repeat of an idempotent request finds the recorded run, with the code version it pinned.
  const fresh = await withPinnedCode(
    ports,
    newTrainingRun({
      id: apiRunId("runs", idempotencyKey, ports.now()),
      bucket,
      key,
      versionId: head.versionId ?? "null",
      options,
      now: ports.now(),
      ...(hash ? { requestHash: hash } : {}),
    }),
    settings,
  );
  return recordAndLaunchTrainingRun(ports, fresh, settings);
}

/** POST /predictions: batch predictions on an object under inputs/ with a registered version. */
export async function startPrediction(
  ports: Pick<Ports, "runs" | "objects" | "models" | "predictions" | "now">,
  body: z.output<typeof PredictBody>,
  idempotencyKey: string | undefined,
  settings: ApiSettings,
): Promise<Run> {
  const { bucket } = settings;
  const key = objectKey(body.input, bucket, PREDICTION_INPUT_PREFIX);
  predictionContent(key);
  const head = await ports.objects.head(bucket, key, body.versionId);
  if (!head) throw new NotFound("object", `s3://${bucket}/${key} does not exist`);
  return launchPrediction(
    ports,
    {
      id: apiRunId("predictions", idempotencyKey, ports.now()),
      bucket,
      key,
      versionId: head.versionId ?? "null",
      modelName: body.modelName,
      ...(body.version !== undefined ? { version: body.version } : {}),
      options: body.instanceType ? { instanceTypes: { transform: body.instanceType } } : {},
      ...(idempotencyKey !== undefined ? { requestHash: requestHash(body) } : {}),
    },
    settings,
  );
}

/** POST /runs/{id}/retry: a new run on the same input version and options, linked to the old. */
export async function retryRun(
  ports: Pick<Ports, "runs" | "models" | "pipeline" | "predictions" | "code" | "now">,
  id: string,
  settings: LaunchSettings,
): Promise<Run> {
  const old = await ports.runs.require(id);
  if (!isTerminal(old.status))
    throw new Conflict("run-not-ended", `run ${old.id} is ${old.status}; cancel it or wait`);
  const newId = newRunId(ports.now());
  if (old.kind === "predict") return launchPrediction(ports, { id: newId, from: old }, settings);
  const run = newTrainingRun({
    id: newId,
    bucket: old.dataset.bucket,
    key: old.dataset.key,
    versionId: old.dataset.versionId,
    options: old.options,
    now: ports.now(),
    retryOf: old.id,
  });
  if (old.code) run.code = old.code;
  await ports.runs.create(run);
  await launchTrainingRun(ports, run, settings);
  return run;
}

/**
 * POST /runs/{id}/cancel: stops the run's execution (its job is stopped with it). The run
 * becomes STOPPED when Step Functions reports the abort (recordExecutionEnd), which also sends
 * its notice; a run that never started is recorded STOPPED here and notified at once.
 */
export async function cancelRun(
  ports: Pick<Ports, "runs" | "pipeline" | "notices" | "log" | "now">,
  id: string,
  by: string,
): Promise<Run> {
  const run = await ports.runs.require(id);
  if (isTerminal(run.status))
    throw new Conflict("run-ended", `run ${run.id} already ended ${run.status}`);
  if (run.executionArn) {
    await ports.pipeline.stop(run.executionArn, `cancelled through the API by ${by}`);
  } else if (
    await ports.runs.update(run.id, { status: "STOPPED", endedAt: ports.now().toISOString() })
  ) {
    await sendRunNotice(ports, run.id);
  }
  return ports.runs.require(run.id);
}

/** GET /runs: newest first, filtered, a page at a time. */
export function listRuns(
  ports: Pick<Ports, "runs">,
  filter: RunFilter,
  limit: number,
  cursor?: string,
): Promise<RunListPage> {
  return ports.runs.list(filter, limit, cursor);
}

async function links(ports: Pick<Ports, "objects">, run: Run): Promise<RunLinks> {
  const found: RunLinks = {};
  const locations = outputLocations(run);
  for (const name of ["model", "evaluation", "predictions", "report"] as const) {
    const uri = locations[name];
    if (uri === undefined) continue;
    const { bucket, key } = parseS3Uri(uri);
    // A prefix (the predictions folder) has no single URL: its files are linked one by one.
    if (key.endsWith("/")) {
      const files = await linkedObjects(
        ports,
        bucket,
        outputKeys(await ports.objects.listKeys(bucket, key)),
      );
      found[name] = { uri, ...(files.length > 0 ? { files } : {}) };
      continue;
    }
    // An object is linked once it exists.
    const url = (await ports.objects.head(bucket, key))
      ? await ports.objects.presignGet(bucket, key)
      : undefined;
    found[name] = { uri, ...(url ? { url } : {}) };
  }
  const prefix = plotsPrefix(run);
  if (prefix !== undefined) {
    const { bucket } = run.dataset;
    found.plots = await linkedObjects(
      ports,
      bucket,
      plotKeys(await ports.objects.listKeys(bucket, prefix)),
    );
  }
  return found;
}

/** Each listed object with its location and a presigned GET URL. */
function linkedObjects(
  ports: Pick<Ports, "objects">,
  bucket: string,
  listed: { name: string; key: string }[],
): Promise<LinkedObject[]> {
  return Promise.all(
    listed.map(async ({ name, key }) => ({
      name,
      uri: `s3://${bucket}/${key}`,
      url: await ports.objects.presignGet(bucket, key),
    })),
  );
}

/** A step that runs a SageMaker job, so it has a log: a built-in job or a user's step. */
function isLogStep(step: string | undefined): step is string {
  return step !== undefined && jobLogGroup(step) !== undefined;
}

async function progress(ports: Pick<Ports, "jobLogs">, run: Run) {
  if (run.status !== "RUNNING" || !isLogStep(run.step)) return undefined;
  const group = jobLogGroup(run.step) ?? "";
  const stream = await ports.jobLogs.stream(group, jobName(run.id, run.step));
  if (!stream) return undefined;
  return latestProgress((await ports.jobLogs.read(group, stream, 100, "tail")).events);
}

/**
 * GET /runs/{id}: the whole record, the running job's latest progress line, presigned links to
 * the outputs once they exist, and the notice's delivery attempts (the Slack notifier's, and
 * SNS's delivery-status log for its message).
 */
export async function runDetail(
  ports: Pick<Ports, "runs" | "objects" | "jobLogs" | "deliveryStatus">,
  id: string,
): Promise<RunDetail> {
  const run = await ports.runs.require(id);
  const [found, latest, deliveries] = await Promise.all([
    links(ports, run),
    progress(ports, run),
    run.notice
      ? ports.deliveryStatus.forMessage(run.notice.messageId, run.notice.publishedAt)
      : Promise.resolve([]),
  ]);
  return toRunDetail(run, found, latest, deliveries);
}

/** `t`: CloudWatch's forward token; absent while the job had not logged yet. */
const LogCursor = z.object({ s: JobStepName, t: z.string().min(1).optional() });

function decodeLogCursor(cursor: string): z.infer<typeof LogCursor> {
  try {
    return LogCursor.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch (error) {
    throw new InvalidRequest("cursor is not one this API gave out", {
      field: "cursor",
      cause: error,
    });
  }
}

function encodeLogCursor(step: string, token: string | undefined): string {
  return Buffer.from(JSON.stringify({ s: step, ...(token ? { t: token } : {}) })).toString(
    "base64url",
  );
}

/** The running job's step, else the failed step's job, else the last job step that ran, else the first. */
function defaultLogStep(run: Run): string {
  if (isLogStep(run.step)) return run.step;
  if (isLogStep(run.failure?.step)) return run.failure.step;
  const ran = Object.keys(run.steps ?? {}).filter(isLogStep);
  return ran.at(-1) ?? "preprocess";
}

/**
 * GET /runs/{id}/logs: without a cursor, the newest events of the step's job (a tail); with
 * the `next` of an earlier answer, what was logged since, so a client follows by polling.
 */
export async function runLogs(
  ports: Pick<Ports, "runs" | "jobLogs">,
  id: string,
  query: z.output<typeof LogsQuery>,
) {
  const run = await ports.runs.require(id);
  const cursor = query.cursor ? decodeLogCursor(query.cursor) : undefined;
  if (cursor && query.step && cursor.s !== query.step)
    throw new InvalidRequest("cursor belongs to another step's log", { field: "cursor" });
  const step = cursor?.s ?? query.step ?? defaultLogStep(run);
  // A search ran one training job per candidate: `train` alone does not say which.
  const candidates = Object.keys(run.steps ?? {}).filter((s) => s.startsWith("train-"));
  if (step === "train" && !run.steps?.train && candidates.length > 0)
    throw new InvalidRequest(
      `run ${run.id} trained ${candidates.length} candidates, each with its own log: name one as the step (${candidates.join(", ")})`,
      { field: "step" },
    );
  const group = jobLogGroup(step);
  if (!group)
    throw new InvalidRequest(`step ${step} runs no job, so it has no log`, { field: "step" });
  const job = jobName(run.id, step);
  const stream = await ports.jobLogs.stream(group, job);
  const page = stream
    ? await ports.jobLogs.read(
        group,
        stream,
        query.limit,
        cursor ? (cursor.t ? { token: cursor.t } : "head") : "tail",
      )
    : { events: [] };
  return {
    runId: run.id,
    step,
    job,
    logGroup: group,
    events: page.events,
    next: encodeLogCursor(step, "next" in page ? page.next : cursor?.t),
  };
}
