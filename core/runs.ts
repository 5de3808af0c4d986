/**
 * Runs: their statuses, steps and the names derived from them (the ids are in core/run-ids.ts).
 */

export const RUN_STATUSES = [
  "QUEUED",
  "RUNNING",
  "SUCCEEDED",
  "BELOW_THRESHOLD",
  "FAILED",
  "STOPPED",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES = ["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminal(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** The steps a training run goes through, in order; a failure names one of them. */
export const STEPS = [
  "intake",
  "copy-input",
  "preprocess",
  "train",
  "evaluate",
  "quality-gate",
  "register",
  "transform",
  "report",
  "notify",
] as const;
export type Step = (typeof STEPS)[number];

/** A user's processing step (modeldrop.json): its job is `md-<runId>-<name>`. */
export const STEP_NAME = /^[a-z][a-z0-9-]{0,15}$/;
/**
 * Any step that runs a job: a user's processing step, or a built-in one such as a search's
 * candidate (`train-random-forest`); 22 characters keep `md-<runId>-<step>` within SageMaker's 63.
 */
export const JOB_STEP_NAME = /^[a-z][a-z0-9-]{0,21}$/;

/** The step of a search's candidate: `train-<algorithm>`, with hyphens for underscores. */
export function candidateStep(algorithm: string): string {
  return `train-${algorithm.replaceAll("_", "-")}`;
}

/** SageMaker jobs and models of a run, each with a deterministic name. */
export const JOB_STEPS = ["preprocess", "train", "evaluate", "transform", "model"] as const;
/** A built-in job, or one of the user's processing steps (modeldrop.json names them). */
export type JobStep = (typeof JOB_STEPS)[number] | (string & {});

/** Lowercase letters, digits and single hyphens; never empty. */
export function slug(text: string, maxLength: number): string {
  const cleaned = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/, "");
  return cleaned || "dataset";
}

/** `inbox/team/Churn Data.csv` → `Churn Data.csv`. */
export function fileName(key: string): string {
  return key.split("/").pop() ?? key;
}

/** The file name without its extension. */
export function fileStem(key: string): string {
  const name = fileName(key);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/**
 * Every SageMaker job and model modeldrop creates starts with this, so IAM can limit the state
 * machine to them (`arn:aws:sagemaker:…:training-job/md-*`).
 */
const JOB_PREFIX = "md-";

/**
 * `md-<runId>-train`: valid as a SageMaker job or model name (1-63 of `[a-zA-Z0-9-]`). A user's
 * processing step is named like the built-ins: `md-<runId>-clean`.
 */
export function jobName(runId: string, step: JobStep): string {
  const name = `${JOB_PREFIX}${runId}-${step}`;
  // SageMaker's pattern bounds the letters and digits, not the hyphens: the length is its own rule.
  if (name.length > 63 || !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name))
    throw new Error(`job name ${name} is not a valid SageMaker name`);
  return name;
}

/** The registry name a drop gets when its options name none: a slug of the file name. */
export function defaultModelName(key: string): string {
  return slug(fileStem(key), 63);
}
