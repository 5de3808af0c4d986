/**
 * The training pipeline's state as it flows through the state machine: the execution input
 * plus small summaries the states add (job times from the `.sync` results, the gate, the model
 * version, a caught failure). Lambda tasks receive it whole and validate what they read.
 */
import { z } from "zod";
import { elapsedSeconds, type JobUsage } from "./cost.js";
import type { PipelineInput } from "./pipeline-input.js";
import type { Failure, StepTiming } from "./run-record.js";

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
export const CaughtError = z.object({ Error: z.string(), Cause: z.string().optional() });

export type PipelineState = Omit<PipelineInput, "steps"> & {
  steps?: StepSummaries;
  failure?: z.infer<typeof CaughtError>;
  failedStep?: string;
};

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
      instanceType: state.jobs[step].instanceType,
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
      instanceType: state.jobs[step].instanceType,
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
  if (parsed && typeof parsed === "object") {
    const fields = parsed as Record<string, unknown>;
    const jobReason = [fields.ExitMessage, fields.FailureReason].find(
      (v): v is string => typeof v === "string" && v.length > 0,
    );
    if (jobReason) reason = jobReason;
    else if (typeof fields.errorMessage === "string") reason = fields.errorMessage;
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
