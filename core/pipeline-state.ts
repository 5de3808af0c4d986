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
import { DATASET_KINDS, type Failure, type StepTiming } from "./run-record.js";

const EpochMs = z.number().nonnegative();
const JobTimes = z.object({ job: z.string(), start: EpochMs, end: EpochMs });

export const StepSummaries = z.object({
  preprocess: JobTimes.optional(),
  train: JobTimes.extend({ billable: z.number().int().min(0), model: z.string() }).optional(),
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

/** What both pipelines carry, and what the states add to it as they go. */
const Shared = {
  runId: z.string().min(1),
  bucket: z.string().min(1),
  dataset: z.object({ name: z.string(), kind: z.enum(DATASET_KINDS) }),
  source: z.object({ key: z.string().min(1), versionId: z.string().min(1) }),
  options: RunOptions,
  /** Batch transform's input: header-less CSV rows, or images one by one. */
  batch: z.object({
    input: z.string(),
    contentType: z.string(),
    splitType: z.enum(["Line", "None"]),
  }),
  steps: StepSummaries.optional(),
  failure: CaughtError.optional(),
  failedStep: z.string().optional(),
};

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
    evaluation: z.string(),
    evaluationKey: z.string(),
    predictions: z.string(),
    reportKey: z.string(),
  }),
  code: z.object({ sha256: z.string(), sourcedir: z.string(), bootstrap: z.string() }),
  jobs: z.object({ preprocess: JobSpec, train: JobSpec, evaluate: JobSpec, transform: JobSpec }),
  model: z.object({ name: z.string(), sageMakerName: z.string(), manualApproval: z.boolean() }),
  hyperParameters: z.record(z.string(), z.string()),
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

/** The state's jobs by step: all four in training, transform alone in batch-predict. */
function jobSpecs(state: PipelineState): Partial<Record<keyof typeof JOB_KIND, JobSpec>> {
  return state.jobs;
}

const JOB_KIND = {
  preprocess: "processing",
  train: "training",
  evaluate: "processing",
  transform: "transform",
} as const;

export function stepTimings(state: PipelineState): Record<string, StepTiming> {
  const steps = StepSummaries.parse(state.steps ?? {});
  const timings: Record<string, StepTiming> = {};
  for (const step of ["preprocess", "train", "evaluate", "transform"] as const) {
    const times = steps[step];
    if (!times) continue;
    timings[step] = {
      job: times.job,
      instanceType: jobSpecs(state)[step]?.instanceType ?? "unknown",
      startedAt: new Date(times.start).toISOString(),
      endedAt: new Date(times.end).toISOString(),
      seconds: elapsedSeconds(times.start, times.end),
    };
  }
  return timings;
}

/** Billable use of each finished job, for the cost. */
export function jobUsage(state: PipelineState): JobUsage[] {
  const steps = StepSummaries.parse(state.steps ?? {});
  const usage: JobUsage[] = [];
  for (const step of ["preprocess", "train", "evaluate", "transform"] as const) {
    const times = steps[step];
    if (!times) continue;
    const seconds =
      step === "train" && steps.train
        ? steps.train.billable
        : elapsedSeconds(times.start, times.end);
    usage.push({
      step,
      kind: JOB_KIND[step],
      instanceType: jobSpecs(state)[step]?.instanceType ?? "unknown",
      seconds,
    });
  }
  return usage;
}

/** Where SageMaker writes each job step's log (streams start `<jobName>/`). */
export const JOB_LOG_GROUPS = {
  preprocess: "/aws/sagemaker/ProcessingJobs",
  train: "/aws/sagemaker/TrainingJobs",
  evaluate: "/aws/sagemaker/ProcessingJobs",
  transform: "/aws/sagemaker/TransformJobs",
} as const;

/** What a Cause may carry: a job's Describe output, or a Lambda error (other fields ignored). */
const CauseFields = z.object({
  ExitMessage: z.unknown().optional(),
  FailureReason: z.unknown().optional(),
  errorMessage: z.unknown().optional(),
});

/**
 * A caught error as the user should read it: a failed `.sync` job gives its own FailureReason
 * (and ExitMessage), a Lambda error its message, with the job's log location when there is one.
 */
export function describeFailure(state: PipelineState): Failure {
  const step = state.failedStep ?? "unknown";
  const caught = CaughtError.safeParse(state.failure);
  const error = caught.success ? caught.data.Error : "Unknown";
  const cause = caught.success ? (caught.data.Cause ?? "") : "";
  let reason = cause || error;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    parsed = undefined;
  }
  const fields = CauseFields.safeParse(parsed);
  if (fields.success) {
    const jobReason = [fields.data.ExitMessage, fields.data.FailureReason].find(
      (v): v is string => typeof v === "string" && v.length > 0,
    );
    if (jobReason) reason = jobReason;
    else if (typeof fields.data.errorMessage === "string") reason = fields.data.errorMessage;
  }
  const failure: Failure = { step, error, reason };
  const log = jobLogLocation(step, state.jobs);
  if (log) failure.log = log;
  return failure;
}

/** The log of the job a step runs (SageMaker's group, streams starting `<jobName>/`), if it runs one. */
export function jobLogLocation(
  step: string,
  jobs: Partial<Record<keyof typeof JOB_LOG_GROUPS, { name: string }>>,
): Failure["log"] | undefined {
  if (!(step in JOB_LOG_GROUPS)) return undefined;
  const jobStep = step as keyof typeof JOB_LOG_GROUPS;
  const job = jobs[jobStep];
  return job ? { group: JOB_LOG_GROUPS[jobStep], streamPrefix: `${job.name}/` } : undefined;
}

/** Where SageMaker puts a training job's model: `<S3OutputPath>/<jobName>/output/model.tar.gz`. */
export function trainedModelUri(jobsOutput: string, trainingJobName: string): string {
  return `${jobsOutput.replace(/\/$/, "")}/${trainingJobName}/output/model.tar.gz`;
}
