/**
 * Starting recorded runs. A run's execution input is derived from the run alone and the
 * execution is named after it, so starting the same run again starts nothing new (Step
 * Functions answers the same name and input idempotently): every entry point (a drop, POST
 * /runs, POST /predictions, a retry) may call these again on redelivery.
 */
import { sameRequest } from "../core/api-runs.js";
import { ManifestInvalid } from "../core/code-manifest.js";
import { InvalidCode, NotFound } from "../core/errors.js";
import type { RunOptions } from "../core/options.js";
import { type InstanceDefaults, pipelineInput, type UserCode } from "../core/pipeline-input.js";
import { predictInput } from "../core/predict-input.js";
import { versionForPrediction } from "../core/registry.js";
import type { Run } from "../core/run-record.js";
import { fileName, isTerminal } from "../core/runs.js";
import { resolveCode } from "./code.js";
import type { Ports } from "./ports.js";

/** What the deployment decides for every run it starts (the function's configuration). */
export interface LaunchSettings {
  region: string;
  codeSha256: string;
  instanceDefaults?: InstanceDefaults;
  /** Candidate training jobs a run may run at once (the Map's MaxConcurrency). */
  parallelJobs?: number;
}

/**
 * A new run with the code version its options name pinned (`run.code`), so every start of the
 * run, and its retries, use the same scripts even after a newer version is registered.
 */
export async function withPinnedCode(
  ports: Pick<Ports, "code">,
  run: Run,
  settings: LaunchSettings,
): Promise<Run> {
  const reference = run.options.code;
  if (!reference || run.code) return run;
  const version = await resolveCode(ports, reference);
  // What registration cannot know: the deployment's region and the run's instance types must
  // have an image of the framework (scikit-learn has no GPU build, say).
  try {
    trainingInput(
      run,
      {
        name: version.codeName,
        version: version.version,
        sha256: version.sha256,
        manifest: version.manifest,
      },
      settings,
    );
  } catch (error) {
    if (error instanceof ManifestInvalid)
      throw new InvalidCode(
        `code ${version.codeName} version ${version.version} cannot run here: ${error.message}`,
        { field: "options.code", cause: error },
      );
    throw error;
  }
  return {
    ...run,
    code: { name: version.codeName, version: version.version, sha256: version.sha256 },
    notes: [
      ...run.notes,
      `your own scripts: code ${version.codeName} version ${version.version}${reference.version === undefined ? " (the newest)" : ""}`,
    ],
  };
}

/** The registered code a run pinned, with its manifest. */
async function pinnedCode(ports: Pick<Ports, "code">, run: Run): Promise<UserCode | undefined> {
  if (!run.code) return undefined;
  const version = await ports.code.get(run.code.name, run.code.version);
  if (!version || version.sha256 !== run.code.sha256)
    throw new NotFound(
      "code-version",
      `code ${run.code.name} version ${run.code.version} (sha256 ${run.code.sha256.slice(0, 12)}) is no longer registered`,
    );
  return {
    name: version.codeName,
    version: version.version,
    sha256: version.sha256,
    manifest: version.manifest,
  };
}

/** The run's execution input, derived from the run, its code version and the deployment alone. */
function trainingInput(run: Run, userCode: UserCode | undefined, settings: LaunchSettings) {
  return pipelineInput({
    runId: run.id,
    bucket: run.dataset.bucket,
    region: settings.region,
    source: { key: run.dataset.key, versionId: run.dataset.versionId },
    kind: run.dataset.kind ?? "table",
    options: run.options,
    codeSha256: settings.codeSha256,
    ...(userCode ? { userCode } : {}),
    ...(settings.instanceDefaults ? { instanceDefaults: settings.instanceDefaults } : {}),
    ...(settings.parallelJobs ? { parallelJobs: settings.parallelJobs } : {}),
  });
}

/** Starts a recorded training run's execution and records its ARN; the ARN. */
export async function launchTrainingRun(
  ports: Pick<Ports, "runs" | "pipeline" | "code">,
  run: Run,
  settings: LaunchSettings,
): Promise<string> {
  const input = trainingInput(run, await pinnedCode(ports, run), settings);
  const executionArn = await ports.pipeline.start(run.id, input);
  if (!run.executionArn) await ports.runs.update(run.id, { executionArn }, "exists");
  return executionArn;
}

/** Records a new training run (a repeat of an idempotent request finds it) and starts it. */
export async function recordAndLaunchTrainingRun(
  ports: Pick<Ports, "runs" | "pipeline" | "code">,
  fresh: Run,
  settings: LaunchSettings,
): Promise<Run> {
  const run = (await ports.runs.create(fresh))
    ? fresh
    : sameRequest(await ports.runs.require(fresh.id), fresh.requestHash);
  if (!isTerminal(run.status)) await launchTrainingRun(ports, run, settings);
  return run;
}

export type PredictionRequest =
  /** A retry of an earlier prediction run: same input version, model version and options. */
  | { id: string; from: Run }
  | {
      id: string;
      bucket: string;
      key: string;
      versionId: string;
      modelName: string;
      /** Default: the newest Approved version. */
      version?: number;
      options: RunOptions;
      requestHash?: string;
    };

/** Records a prediction run with the chosen model version and starts batch-predict. */
export async function launchPrediction(
  ports: Pick<Ports, "runs" | "models" | "predictions" | "now">,
  request: PredictionRequest,
  settings: LaunchSettings,
): Promise<Run> {
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
  const versions = await ports.models.versions(wanted.modelName);
  if (versions.length === 0)
    throw new NotFound("model", `no model named ${wanted.modelName} is registered`);
  const chosen = versionForPrediction(wanted.modelName, versions, wanted.version);
  const now = ports.now().toISOString();
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
  const run = (await ports.runs.create(fresh))
    ? fresh
    : sameRequest(await ports.runs.require(request.id), fresh.requestHash);
  if (isTerminal(run.status)) return run;
  const trainedBy = await ports.runs.get(chosen.runId);
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
  const executionArn = await ports.predictions.start(run.id, input);
  if (!run.executionArn) await ports.runs.update(run.id, { executionArn }, "exists");
  return run;
}
