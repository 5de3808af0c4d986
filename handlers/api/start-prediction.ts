/**
 * POST /predictions: batch predictions on an object under inputs/ with a registered model
 * version (default: the newest Approved one), run by the batch-predict state machine and
 * tracked as a run of kind `predict`.
 */
import { readEnvironment } from "../../aws/config.js";
import { type Root, root } from "../../aws/root.js";
import type { LaunchSettings } from "../../aws/run-launcher.js";
import { ROUTES } from "../../core/api.js";
import {
  apiRunId,
  objectKey,
  PREDICTION_INPUT_PREFIX,
  requestHash,
  sameRequest,
} from "../../core/api-runs.js";
import { NotFound } from "../../core/errors.js";
import type { RunOptions } from "../../core/options.js";
import { predictInput, predictionContent } from "../../core/predict-input.js";
import { versionForPrediction } from "../../core/registry.js";
import type { Run } from "../../core/run-record.js";
import { runPath } from "../../core/run-view.js";
import { fileName, isTerminal } from "../../core/runs.js";
import { apiRoute } from "./http.js";
import { launchSettings } from "./settings.js";

export interface PredictionDeps {
  root: Pick<Root, "runs" | "models" | "predictions">;
  settings: () => LaunchSettings;
  now: () => Date;
}

/**
 * Records a prediction run and starts its execution; with `from`, a retry of that run (same
 * input version, model version and options).
 */
export async function launchPrediction(
  deps: PredictionDeps,
  request:
    | { id: string; from: Run }
    | {
        id: string;
        bucket: string;
        key: string;
        versionId: string;
        modelName: string;
        version?: number;
        options: RunOptions;
        requestHash?: string;
      },
): Promise<Run> {
  const runs = deps.root.runs();
  const wanted =
    "from" in request
      ? {
          bucket: request.from.dataset.bucket,
          key: request.from.dataset.key,
          versionId: request.from.dataset.versionId,
          modelName: request.from.model?.name ?? request.from.modelName ?? "",
          version: request.from.model?.version,
          options: request.from.options,
        }
      : request;
  const versions = await deps.root.models().versions(wanted.modelName);
  if (versions.length === 0)
    throw new NotFound("model", `no model named ${wanted.modelName} is registered`);
  const chosen = versionForPrediction(wanted.modelName, versions, wanted.version);
  const now = deps.now().toISOString();
  const fresh: Run = {
    id: request.id,
    kind: "predict",
    status: "QUEUED",
    createdAt: now,
    updatedAt: now,
    dataset: {
      bucket: wanted.bucket,
      key: wanted.key,
      versionId: wanted.versionId,
      name: fileName(wanted.key),
    },
    modelName: chosen.modelName,
    model: {
      name: chosen.modelName,
      version: chosen.version,
      approval: chosen.approval,
      artifact: chosen.artifact,
    },
    options: wanted.options,
    optionsSource: "request",
    notes: [
      `predictions with ${chosen.modelName} version ${chosen.version} (${chosen.approval})${wanted.version === undefined ? ", the newest Approved version" : ""}`,
      ...("from" in request ? [`a retry of run ${request.from.id}`] : []),
    ],
    ...("from" in request ? { retryOf: request.from.id } : {}),
    ...("requestHash" in request && request.requestHash
      ? { requestHash: request.requestHash }
      : {}),
  };
  const run = (await runs.create(fresh))
    ? fresh
    : sameRequest(await runs.require(request.id), fresh.requestHash);
  if (isTerminal(run.status)) return run;
  const settings = deps.settings();
  const trainedBy = await runs.get(chosen.runId);
  const input = predictInput({
    run,
    model: {
      name: chosen.modelName,
      version: chosen.version,
      sageMakerModel: chosen.sageMakerModel,
      artifact: chosen.artifact,
      codeSha256: trainedBy?.lineage?.codeSha256 ?? "unknown",
    },
    region: settings.region,
    ...(settings.instanceDefaults ? { instanceDefaults: settings.instanceDefaults } : {}),
  });
  const executionArn = await deps.root.predictions().start(run.id, input);
  if (!run.executionArn) await runs.update(run.id, { executionArn }, "exists");
  return run;
}

export interface Deps extends PredictionDeps {
  root: Pick<Root, "runs" | "models" | "predictions" | "objects">;
  bucket: () => string;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.startPrediction, async ({ body, headers }) => {
    const bucket = deps.bucket();
    const key = objectKey(body.input, bucket, PREDICTION_INPUT_PREFIX);
    predictionContent(key);
    const head = await deps.root.objects().head(bucket, key, body.versionId);
    if (!head) throw new NotFound("object", `s3://${bucket}/${key} does not exist`);
    const idempotencyKey = headers["idempotency-key"];
    const id = apiRunId("predictions", idempotencyKey, deps.now());
    const run = await launchPrediction(deps, {
      id,
      bucket,
      key,
      versionId: head.versionId ?? "null",
      modelName: body.modelName,
      ...(body.version !== undefined ? { version: body.version } : {}),
      options: body.instanceType ? { instanceTypes: { transform: body.instanceType } } : {},
      ...(idempotencyKey !== undefined ? { requestHash: requestHash(body) } : {}),
    });
    return { status: 202, body: { id, status: run.status, url: runPath(id) } };
  });
}

export const handler = makeHandler({
  root,
  bucket: () => readEnvironment(["DATA_BUCKET"]).DATA_BUCKET,
  settings: launchSettings,
  now: () => new Date(),
});
