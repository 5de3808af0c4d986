/**
 * The pipelines' state as it flows through the state machines: the execution input plus small
 * summaries the states add (job times from the `.sync` results, a caught failure). Lambda
 * tasks receive it whole and parse it with these schemas; the training pipeline's input is
 * built to the same schema (core/pipeline-input.ts), batch-predict's in core/predict-input.ts.
 */
import { z } from "zod";
import { elapsedSeconds, type JobUsage } from "./cost.js";
import { parseStored } from "./errors.js";
import { RunOptions } from "./options.js";
import { DATASET_KINDS, type Failure, type JobKind, type StepTiming } from "./run-record.js";
import { jobName } from "./runs.js";

const EpochMs = z.number().nonnegative();
const JobTimes = z.object({ job: z.string(), start: EpochMs, end: EpochMs });

/** A candidate training job the Map ran: its times, or the failure its Catch kept. */
const CandidateResult = z.union([
  JobTimes.extend({ billable: z.number().int().min(0) }),
  z.object({
    job: z.string(),
    failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
  }),
]);
export type CandidateResult = z.infer<typeof CandidateResult>;

export const StepSummaries = z.object({
  /** One entry a processing step, in the order the Map ran them. */
  processing: z.array(JobTimes).optional(),
  /** One entry a candidate training job, in the order of `training.candidates`. */
  train: z.array(CandidateResult).optional(),
  select: JobTimes.optional(),
  evaluate: JobTimes.optional(),
  transform: JobTimes.optional(),
});
export type StepSummaries = z.infer<typeof StepSummaries>;

/** What Catch puts at `$.failure`: the error name and its cause (a job's Describe output for `.sync`). */
const CaughtError = z.object({ Error: z.string(), Cause: z.string().optional() });

export const JobSpec = z.object({
  name: z.string().min(1),
  image: z.string().min(1),
  instanceType: z.string().min(1),
  maxRuntimeSeconds: z.number().int().positive(),
});
export type JobSpec = z.infer<typeof JobSpec>;

/** A SageMaker request member the state machine passes on as it is (ProcessingInput and the like). */
const RequestPart = z.record(z.string(), z.unknown());

/**
 * One processing job as the state machine runs it: the parts of CreateProcessingJob that differ
 * by step, built by core/pipeline-input.ts (the built-in preprocess or a user's step).
 */
export const ProcessingItem = z.object({
  step: z.string().min(1),
  job: JobSpec,
  app: z.object({
    ImageUri: z.string().min(1),
    ContainerEntrypoint: z.array(z.string()).min(1),
    ContainerArguments: z.array(z.string()).min(1).optional(),
  }),
  inputs: z.array(RequestPart),
  outputs: z.array(RequestPart),
});
export type ProcessingItem = z.infer<typeof ProcessingItem>;

/**
 * One training job of the run's search (a candidate algorithm), or the one job a pinned
 * algorithm, an image run or a user's train.py runs. `optional`: the run goes on without it when
 * it fails (the select job compares the others).
 */
export const TrainingCandidate = z.object({
  step: z.string().min(1),
  algorithm: z.string().optional(),
  job: JobSpec,
  hyperParameters: z.record(z.string(), z.string()),
  optional: z.boolean(),
});
export type TrainingCandidate = z.infer<typeof TrainingCandidate>;

/** The quality gate a user's modeldrop.json sets on their evaluation.json. */
export const UserGate = z.object({
  metric: z.string().min(1),
  threshold: z.number(),
  direction: z.enum(["higher", "lower"]),
});

/** What both pipelines carry, and what the states add to it as they go. */
const Shared = {
  runId: z.string().min(1),
  bucket: z.string().min(1),
  dataset: z.object({ name: z.string(), kind: z.enum(DATASET_KINDS) }),
  source: z.object({ key: z.string().min(1), versionId: z.string().min(1) }),
  options: RunOptions,
  steps: StepSummaries.optional(),
  failure: CaughtError.optional(),
  failedStep: z.string().optional(),
};

/** Batch transform's input: header-less CSV rows, or images one by one. */
const Batch = z.object({
  input: z.string(),
  contentType: z.string(),
  splitType: z.enum(["Line", "None"]),
});

/** The training pipeline's state. Its input has no `kind`; batch-predict's says "predict". */
export const TrainingState = z.object({
  ...Shared,
  kind: z.literal("train").optional(),
  paths: z.object({
    /** The exact dropped version, copied where SageMaker can read it (it cannot read by versionId). */
    inputKey: z.string(),
    input: z.string(),
    optionsKey: z.string(),
    options: z.string(),
    processed: z.string(),
    trainChannel: z.string(),
    validationChannel: z.string(),
    test: z.string(),
    jobs: z.string(),
    /** The run's model: the select job's choice, or a user's training job's artifact. */
    model: z.string(),
    evaluation: z.string(),
    evaluationKey: z.string(),
    predictions: z.string(),
    reportKey: z.string(),
  }),
  /** modeldrop's own code (ml/ as deployed). */
  code: z.object({ sha256: z.string(), sourcedir: z.string(), bootstrap: z.string() }),
  /** The user's registered code the run uses, if any (modeldrop.json). */
  userCode: z
    .object({
      name: z.string(),
      version: z.number().int().positive(),
      sha256: z.string(),
      sourcedir: z.string(),
    })
    .optional(),
  processing: z.array(ProcessingItem).min(1),
  training: z.object({
    channels: z.array(RequestPart).min(1),
    candidates: z.array(TrainingCandidate).min(1),
    /** Candidate jobs at once (the Map's MaxConcurrency). */
    maxParallel: z.number().int().min(1),
    /** The whole search's wall-clock budget, in seconds (built-in runs). */
    budgetSeconds: z.number().int().positive().optional(),
  }),
  /** The select job (built-in runs): compares the candidates and writes the run's model. */
  selection: ProcessingItem.optional(),
  evaluation: ProcessingItem.extend({ gate: UserGate.optional() }),
  /** What the SageMaker model serves with: SAGEMAKER_PROGRAM in SAGEMAKER_SUBMIT_DIRECTORY. */
  inference: z.object({ program: z.string().min(1), submitDirectory: z.string().min(1) }),
  jobs: z.object({ transform: JobSpec }),
  model: z.object({ name: z.string(), sageMakerName: z.string(), manualApproval: z.boolean() }),
  /** Absent when a user's pipeline names nothing to predict on. */
  batch: Batch.optional(),
});
export type TrainingState = z.infer<typeof TrainingState>;

/** The batch-predict pipeline's state: one transform job with a registered version. */
export const PredictionState = z.object({
  ...Shared,
  kind: z.literal("predict"),
  paths: z.object({
    inputKey: z.string(),
    input: z.string(),
    optionsKey: z.string(),
    options: z.string(),
    predictions: z.string(),
    reportKey: z.string(),
  }),
  code: z.object({ sha256: z.string() }),
  jobs: z.object({ transform: JobSpec }),
  batch: Batch,
  model: z.object({
    name: z.string(),
    version: z.number().int().positive(),
    sageMakerName: z.string(),
    manualApproval: z.boolean(),
  }),
});
export type PredictionState = z.infer<typeof PredictionState>;

export type PipelineState = TrainingState | PredictionState;

/** Either pipeline's state, parsed with the schema its `kind` names. */
export function parsePipelineState(value: unknown): PipelineState {
  const predict =
    typeof value === "object" && value !== null && "kind" in value && value.kind === "predict";
  return predict
    ? parseStored(PredictionState, value, "the batch-predict state")
    : parseTrainingState(value);
}

/** The training pipeline's state (the tasks only it runs). */
export function parseTrainingState(value: unknown): TrainingState {
  return parseStored(TrainingState, value, "the training pipeline state");
}

/** Every job the state runs, by its step: processing steps, training candidates, select, evaluate, transform. */
export function jobSpecs(state: PipelineState): Record<string, JobSpec> {
  if (state.kind === "predict") return { transform: state.jobs.transform };
  return {
    ...Object.fromEntries(state.processing.map((item) => [item.step, item.job])),
    ...Object.fromEntries(state.training.candidates.map((item) => [item.step, item.job])),
    ...(state.selection ? { select: state.selection.job } : {}),
    evaluate: state.evaluation.job,
    transform: state.jobs.transform,
  };
}

/** The step of each training job, by job name. */
function trainingSteps(state: PipelineState): Map<string, string> {
  if (state.kind === "predict") return new Map();
  return new Map(state.training.candidates.map((item) => [item.job.name, item.step]));
}

interface FinishedJob {
  step: string;
  kind: JobKind;
  times: z.infer<typeof JobTimes>;
  billable?: number;
}

/** The finished jobs' times by step, in the order they ran (failed candidates have none). */
function finishedJobs(state: PipelineState): FinishedJob[] {
  const steps = StepSummaries.parse(state.steps ?? {});
  const processing = state.kind === "predict" ? [] : state.processing;
  const training = trainingSteps(state);
  return [
    ...(steps.processing ?? []).flatMap((times, i) => {
      const step = processing[i]?.step;
      return step ? [{ step, kind: "processing" as const, times }] : [];
    }),
    ...(steps.train ?? []).flatMap((result) => {
      const step = training.get(result.job);
      return step && "billable" in result
        ? [{ step, kind: "training" as const, times: result, billable: result.billable }]
        : [];
    }),
    ...(["select", "evaluate", "transform"] as const).flatMap((step) => {
      const times = steps[step];
      const kind: JobKind = step === "transform" ? "transform" : "processing";
      return times ? [{ step, kind, times }] : [];
    }),
  ];
}

/** The candidate training jobs that failed and were left out, by step, with the error caught. */
export function failedCandidates(
  state: PipelineState,
): { step: string; error: string; reason: string }[] {
  if (state.kind === "predict") return [];
  const training = trainingSteps(state);
  return (StepSummaries.parse(state.steps ?? {}).train ?? []).flatMap((result) => {
    if (!("failure" in result)) return [];
    const step = training.get(result.job) ?? result.job;
    const { error, reason } = readCause(result.failure.Error, result.failure.Cause ?? "");
    return [{ step, error, reason }];
  });
}

export function stepTimings(state: PipelineState): Record<string, StepTiming> {
  const specs = jobSpecs(state);
  const timings: Record<string, StepTiming> = {};
  for (const { step, times } of finishedJobs(state))
    timings[step] = {
      job: times.job,
      instanceType: specs[step]?.instanceType ?? "unknown",
      startedAt: new Date(times.start).toISOString(),
      endedAt: new Date(times.end).toISOString(),
      seconds: elapsedSeconds(times.start, times.end),
    };
  return timings;
}

/** Billable use of each finished job (every training candidate's), for the cost. */
export function jobUsage(state: PipelineState): JobUsage[] {
  const specs = jobSpecs(state);
  return finishedJobs(state).map(({ step, kind, times, billable }) => ({
    step,
    kind,
    instanceType: specs[step]?.instanceType ?? "unknown",
    seconds: billable ?? elapsedSeconds(times.start, times.end),
  }));
}

/** Steps that run no SageMaker job of their own. */
const STEPS_WITHOUT_JOB = new Set([
  "intake",
  "copy-input",
  "quality-gate",
  "register",
  "report",
  "notify",
  "processing",
  "unknown",
]);

/**
 * Where SageMaker writes a step's job log (streams start `<jobName>/`): training and transform
 * have their own groups, every processing step (built-in or the user's) shares one.
 */
export function jobLogGroup(step: string): string | undefined {
  if (STEPS_WITHOUT_JOB.has(step)) return undefined;
  // the train step, or one candidate of the search (train-xgboost); user steps cannot be named so
  if (step === "train" || step.startsWith("train-")) return "/aws/sagemaker/TrainingJobs";
  if (step === "transform") return "/aws/sagemaker/TransformJobs";
  return "/aws/sagemaker/ProcessingJobs";
}

/** What a Cause may carry: a job's Describe output, or a Lambda error (other fields ignored). */
const CauseFields = z.object({
  ProcessingJobName: z.unknown().optional(),
  TrainingJobName: z.unknown().optional(),
  ExitMessage: z.unknown().optional(),
  FailureReason: z.unknown().optional(),
  errorMessage: z.unknown().optional(),
});

/**
 * A caught error's reason as the user should read it: a failed `.sync` job gives its own
 * FailureReason (and ExitMessage), a Lambda error its message; and the job it names, if any.
 */
function readCause(error: string, cause: string): { error: string; reason: string; job?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    parsed = undefined;
  }
  const fields = CauseFields.safeParse(parsed);
  if (!fields.success) return { error, reason: cause || error };
  const { ExitMessage, FailureReason, errorMessage, ProcessingJobName, TrainingJobName } =
    fields.data;
  const jobReason = [ExitMessage, FailureReason].find(
    (v): v is string => typeof v === "string" && v.length > 0,
  );
  const reason = jobReason ?? (typeof errorMessage === "string" ? errorMessage : cause || error);
  const job = [ProcessingJobName, TrainingJobName].find((v): v is string => typeof v === "string");
  return { error, reason, ...(job ? { job } : {}) };
}

/**
 * A caught error as the user should read it (see readCause), at the step whose job failed,
 * with the job's log location when there is one.
 */
export function describeFailure(state: PipelineState): Failure {
  let step = state.failedStep ?? "unknown";
  const caught = CaughtError.safeParse(state.failure);
  const read = readCause(
    caught.success ? caught.data.Error : "Unknown",
    caught.success ? (caught.data.Cause ?? "") : "",
  );
  // A job inside a Map (a processing step, a training candidate): its name says which step.
  const failedJob = Object.entries(jobSpecs(state)).find(([, spec]) => spec.name === read.job);
  if ((step === "processing" || step === "train") && failedJob) step = failedJob[0];
  // The training job succeeded but left no model: the train step is at fault, not evaluate.
  if (read.error === "ModelEmpty") step = "train";
  // Every candidate failed, so select had nothing to choose from: their reasons are the story.
  const failed = failedCandidates(state);
  if (
    step === "select" &&
    state.kind !== "predict" &&
    failed.length === state.training.candidates.length
  ) {
    const first = failed[0];
    if (first) {
      step = first.step;
      read.error = first.error;
      read.reason = `every candidate failed: ${failed.map((f) => `${f.step}: ${f.reason}`).join("; ")}`;
    }
  }
  const failure: Failure = { step, error: read.error, reason: read.reason };
  const log = jobLogLocation(state.runId, step);
  if (log) failure.log = log;
  return failure;
}

/** The log of the job a step runs (SageMaker's group, streams starting `<jobName>/`), if it runs one. */
export function jobLogLocation(runId: string, step: string): Failure["log"] | undefined {
  const group = jobLogGroup(step);
  return group ? { group, streamPrefix: `${jobName(runId, step)}/` } : undefined;
}

/** Where SageMaker puts a training job's model: `<S3OutputPath>/<jobName>/output/model.tar.gz`. */
export function trainedModelUri(jobsOutput: string, trainingJobName: string): string {
  return `${jobsOutput.replace(/\/$/, "")}/${trainingJobName}/output/model.tar.gz`;
}
