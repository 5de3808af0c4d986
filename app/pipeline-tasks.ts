/**
 * The work the state machines' Lambda tasks do, each on the pipeline state it is given
 * (parsed by the handler with core/pipeline-state.ts): copy the dropped version in, record
 * progress, the metrics and gate, the end, register the model, write the report. Each is safe
 * to retry: Step Functions retries a task that timed out.
 */
import { runCost } from "../core/cost.js";
import {
  decideGate,
  decideUserGate,
  EvaluationInvalid,
  headlineMetrics,
  parseEvaluation,
  searchSummary,
  userMetrics,
} from "../core/evaluation.js";
import {
  describeFailure,
  failedCandidates,
  jobSpecs,
  jobUsage,
  type PipelineState,
  stepTimings,
  type TrainingState,
} from "../core/pipeline-state.js";
import { type Approval, approvalForNewVersion, schemaFromProfile } from "../core/registry.js";
import { Profile } from "../core/report/index.js";
import type { Gate, Run } from "../core/run-record.js";
import type { Step } from "../core/runs.js";
import { parseS3Uri } from "../core/s3-uri.js";
import { tarGzFileNames } from "../core/tar.js";
import { announceApproval } from "./models.js";
import type { Ports } from "./ports.js";
import { writeRunReport } from "./report.js";

class DatasetMissing extends Error {
  override readonly name = "DatasetMissing";
}

/**
 * Copies the exact dropped version into the run (SageMaker reads keys, not versions) and writes
 * the run's options where the preprocess job reads them.
 */
export async function copyInput(
  ports: Pick<Ports, "objects">,
  state: PipelineState,
): Promise<{ input: string }> {
  const { key, versionId } = state.source;
  const version = versionId === "null" ? undefined : versionId;
  if (!(await ports.objects.head(state.bucket, key, version)))
    throw new DatasetMissing(
      `the dropped file s3://${state.bucket}/${key} (version ${versionId}) was deleted before the run could copy it`,
    );
  await ports.objects.copyVersion(state.bucket, key, versionId, state.paths.inputKey);
  await ports.objects.putObject(
    state.bucket,
    state.paths.optionsKey,
    JSON.stringify(state.options),
    "application/json",
  );
  return { input: state.paths.input };
}

class ModelEmpty extends Error {
  override readonly name = "ModelEmpty";
}

/** An archive this small may hold nothing; a larger one holds something. */
const EMPTY_ARCHIVE_BYTES = 4096;

/**
 * SageMaker packs /opt/ml/model whatever it holds: a user's train.py that saved nothing gives
 * an empty model.tar.gz, which would only fail later, less clearly.
 */
async function checkTrainedModel(ports: Pick<Ports, "objects">, uri: string, entryPoint: string) {
  const { bucket, key } = parseS3Uri(uri);
  const head = await ports.objects.head(bucket, key);
  if (!head || head.size > EMPTY_ARCHIVE_BYTES) return;
  const archive = await ports.objects.getBuffer(bucket, key);
  if (archive && tarGzFileNames(archive).length === 0)
    throw new ModelEmpty(
      `${entryPoint} saved nothing in /opt/ml/model (SM_MODEL_DIR), so there is no model to evaluate or register`,
    );
}

/** The training script's name from its JSON-encoded sagemaker_program hyperparameter. */
function entryPoint(program: string | undefined): string {
  try {
    return String(JSON.parse(program ?? '"train.py"'));
  } catch {
    return program ?? "train.py";
  }
}

/** Records the step a run is entering and the times of the jobs finished so far. */
export async function recordProgress(
  ports: Pick<Ports, "runs" | "objects">,
  step: Step | string,
  state: PipelineState,
): Promise<{ recorded: boolean }> {
  if (step === "evaluate" && state.kind !== "predict" && state.userCode)
    await checkTrainedModel(
      ports,
      state.paths.model,
      entryPoint(state.training.candidates[0]?.hyperParameters.sagemaker_program),
    );
  const fields: Partial<Run> = { status: "RUNNING", step, steps: stepTimings(state) };
  if (step === "copy-input") {
    // The first step: what the run will be built from.
    fields.lineage = {
      codeSha256: state.code.sha256,
      images: Object.fromEntries(
        Object.entries(jobSpecs(state)).map(([job, spec]) => [job, spec.image]),
      ),
    };
    // A prediction run was created knowing its model version; a training run learns it later.
    if (state.kind !== "predict") fields.model = { name: state.model.name };
  }
  // A run that already ended (stopped by the user) stays as it is.
  return { recorded: await ports.runs.update(state.runId, fields) };
}

/**
 * Reads the evaluate job's evaluation.json, records the test metrics and the training run's
 * libraries, and decides the quality gate the state machine's Choice tests.
 */
export async function recordMetrics(
  ports: Pick<Ports, "runs" | "objects">,
  state: TrainingState,
): Promise<Gate> {
  const text = await ports.objects.getText(state.bucket, state.paths.evaluationKey);
  if (text === undefined)
    throw new EvaluationInvalid(
      `the evaluate job wrote no evaluation.json at s3://${state.bucket}/${state.paths.evaluationKey}${state.evaluation.gate ? " (your evaluate script must write /opt/ml/processing/evaluation/evaluation.json)" : ""}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EvaluationInvalid(
      `evaluation.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const run = await ports.runs.require(state.runId);
  const userGate = state.evaluation.gate;
  if (userGate) {
    // The user's own evaluate script: their layout, their gate.
    const gate = decideUserGate(json, userGate);
    await ports.runs.update(state.runId, { metrics: userMetrics(json), gate });
    return gate;
  }
  const evaluation = parseEvaluation(json);
  const gate = decideGate(evaluation, state.options);
  const libraries = evaluation.modeldrop.model_info?.libraries;
  const search = searchSummary(evaluation, failedCandidates(state), state.training.budgetSeconds);
  await ports.runs.update(state.runId, {
    metrics: headlineMetrics(evaluation),
    gate,
    ...(search ? { search } : {}),
    lineage: {
      ...run.lineage,
      algorithm: evaluation.modeldrop.algorithm,
      ...(libraries ? { libraries } : {}),
    },
  });
  return gate;
}

export type PipelineOutcome = "SUCCEEDED" | "BELOW_THRESHOLD" | "FAILED";

/**
 * Records how the pipeline ended (SUCCEEDED, BELOW_THRESHOLD or FAILED with the failed step,
 * the job's own reason and its log), with the step times and what the jobs cost. A run already
 * ended (stopped by the user) keeps its status.
 */
export async function recordEnd(
  ports: Pick<Ports, "runs" | "now">,
  outcome: PipelineOutcome,
  state: PipelineState,
): Promise<{ status: string; recorded: boolean }> {
  const fields: Partial<Run> = {
    status: outcome,
    endedAt: ports.now().toISOString(),
    steps: stepTimings(state),
    cost: runCost(jobUsage(state)),
  };
  if (outcome === "SUCCEEDED" && state.batch) fields.predictions = `${state.paths.predictions}/`;
  if (outcome === "FAILED") fields.failure = describeFailure(state);
  const recorded = await ports.runs.update(state.runId, fields);
  const run = await ports.runs.require(state.runId);
  return { status: run.status, recorded };
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Registers the trained model as the next version of its name: Approved when the gate passed,
 * Pending when the run asks for manual approval or when the version's schema (task, target,
 * feature columns) differs from the model's newest version. A retried task finds the version
 * it made.
 */
export async function registerModel(
  ports: Pick<Ports, "runs" | "models" | "modelEvents" | "objects" | "log" | "now">,
  state: TrainingState,
  artifact: string,
): Promise<{ name: string; version: number; approval: Approval }> {
  const run = await ports.runs.require(state.runId);
  if (run.model?.version !== undefined && run.model.approval) {
    // A retried task may have stopped before announcing: again (deploy-on-approval takes repeats).
    if (run.model.approval === "Approved")
      await announceGate(ports, state.runId, { name: run.model.name, version: run.model.version });
    return { name: run.model.name, version: run.model.version, approval: run.model.approval };
  }
  const profileText = await ports.objects.getText(
    state.bucket,
    `runs/${state.runId}/processed/profile.json`,
  );
  const profile = profileText ? Profile.safeParse(parseJsonOrNull(profileText)).data : undefined;
  const schema = profile ? schemaFromProfile(profile) : undefined;
  const { approval, schemaChange } = approvalForNewVersion({
    modelName: state.model.name,
    manualApproval: state.model.manualApproval,
    schema,
    newest: await ports.models.newest(state.model.name),
  });
  const version = await ports.models.nextVersion(state.model.name);
  const now = ports.now().toISOString();
  await ports.models.put({
    modelName: state.model.name,
    version,
    artifact,
    sageMakerModel: state.model.sageMakerName,
    runId: state.runId,
    metrics: run.metrics ?? {},
    approval,
    createdAt: now,
    ...(schema ? { schema } : {}),
    ...(schemaChange ? { schemaChange } : {}),
    ...(approval === "Approved" ? { decidedBy: "quality-gate", decidedAt: now } : {}),
  });
  await ports.runs.update(state.runId, {
    model: { name: state.model.name, version, approval, artifact },
    ...(schemaChange ? { notes: [...run.notes, `Version ${version} ${schemaChange}`] } : {}),
  });
  if (approval === "Approved")
    await announceGate(ports, state.runId, { name: state.model.name, version });
  return { name: state.model.name, version, approval };
}

/**
 * The gate's approval announced (deploy-on-approval listens). The version is registered and the
 * run goes on when that fails: the failure is logged and noted on the run, with how to serve the
 * version by hand, rather than failing a run whose model is fine.
 */
async function announceGate(
  ports: Pick<Ports, "runs" | "modelEvents" | "log">,
  runId: string,
  model: { name: string; version: number },
): Promise<void> {
  try {
    await announceApproval(ports, {
      modelName: model.name,
      version: model.version,
      decidedBy: "quality-gate",
      runId,
    });
  } catch (error) {
    ports.log.error("the gate's approval could not be announced", { runId, ...model, error });
    const run = await ports.runs.require(runId);
    await ports.runs.update(runId, {
      notes: [
        ...run.notes,
        `Version ${model.version} was approved, but its approval could not be announced (${error instanceof Error ? error.message : String(error)}), so deploy-on-approval did not see it; serve it with: npx modeldrop endpoint create ${model.name} --version ${model.version}`,
      ],
    });
  }
}

/** The run's report, from what its jobs left (the pipeline's BuildReport state). */
export async function buildReport(
  ports: Pick<Ports, "runs" | "objects">,
  state: PipelineState,
): Promise<{ report: string }> {
  const modelUri = state.kind === "predict" ? undefined : state.paths.model;
  const report = await writeRunReport(ports, {
    runId: state.runId,
    bucket: state.bucket,
    reportKey: state.paths.reportKey,
    evaluationKey: "evaluationKey" in state.paths ? state.paths.evaluationKey : undefined,
    ...(modelUri ? { modelUri } : {}),
  });
  return { report };
}
