/**
 * Runs: their ids, statuses and the names derived from them. A run dropped into the inbox gets
 * an id derived from the exact object version, so a duplicate S3 event finds the same run.
 */
import { createHash, randomBytes } from "node:crypto";

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
function fileStem(key: string): string {
  const name = fileName(key);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/**
 * `churn-data-3f2a9c1b0d4e`: readable, and the same for the same bucket, key and version, so a
 * redelivered event maps to the run it already started. 37 characters at most, which leaves room
 * for the job prefix and suffixes inside SageMaker's 63.
 */
export function runIdForDrop(bucket: string, key: string, versionId: string): string {
  const digest = createHash("sha256").update(`${bucket}\n${key}\n${versionId}`).digest("hex");
  return `${slug(fileStem(key), 24)}-${digest.slice(0, 12)}`;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The low `length * 5` bits of the bytes (a big-endian number), in Crockford base32. */
function crockford(bytes: Uint8Array, length: number): string {
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = length - 1; i >= 0; i--) out += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

/**
 * A run started through the API: a ULID (48-bit millisecond time + 80 random bits, Crockford
 * base32), so ids sort by creation time.
 */
export function newRunId(now: Date = new Date(), random: Uint8Array = randomBytes(10)): string {
  const bytes = new Uint8Array(16);
  let time = BigInt(now.getTime());
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(time & 255n);
    time >>= 8n;
  }
  bytes.set(random.subarray(0, 10), 6);
  return crockford(bytes, 26);
}

/**
 * The run id an `Idempotency-Key` maps to: the same key (per route) always names the same run,
 * shaped like a ULID so both kinds of id look alike.
 */
export function runIdForIdempotencyKey(route: string, key: string): string {
  return crockford(createHash("sha256").update(`${route}\n${key}`).digest().subarray(0, 16), 26);
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
