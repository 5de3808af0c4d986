/**
 * Runs started through the API (POST /runs, retry, POST /predictions): where their input is,
 * what their record starts as, and how a repeated idempotent request is told apart from a key
 * reused for a different request.
 */
import { createHash } from "node:crypto";
import { classifyDrop, queuedTrainingRun } from "./drops.js";
import { Conflict, InvalidRequest } from "./errors.js";
import type { RunOptions } from "./options.js";
import { newRunId, runIdForIdempotencyKey } from "./run-ids.js";
import type { Run } from "./run-record.js";
import { fileName } from "./runs.js";
import { parseS3Uri } from "./s3-uri.js";

/** Prediction inputs live apart from inbox/, where every object starts a training run. */
export const PREDICTION_INPUT_PREFIX = "inputs/";

/**
 * `inbox/data.csv` or `s3://<bucket>/inbox/data.csv` → the key. Only objects under the
 * prefix the run kind reads are accepted (the functions may read nothing else).
 */
export function objectKey(input: string, bucket: string, prefix: string): string {
  let key = input;
  if (input.startsWith("s3://")) {
    const location = parseS3Uri(input);
    if (location.bucket !== bucket)
      throw new InvalidRequest(
        `input must be in the data bucket ${bucket}, not ${location.bucket}`,
        { field: "input" },
      );
    key = location.key;
  }
  if (!key.startsWith(prefix) || key.length === prefix.length || key.endsWith("/"))
    throw new InvalidRequest(`input must be an object under ${prefix}, not ${input}`, {
      field: "input",
    });
  // `inbox/../x` is the literal key it is, as on S3 (which never resolves dot segments) and in
  // IAM (where `inbox/*` matches it): it names an object under inbox/ and nothing else.
  return key;
}

/** The stored object of a training input must be a dataset modeldrop reads (not empty, a known format). */
export function checkTrainable(key: string, size: number): void {
  const decision = classifyDrop(key, size);
  if (decision.action !== "train")
    throw new InvalidRequest(`input ${fileName(key)} cannot be trained on: ${decision.reason}`, {
      field: "input",
    });
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The run id for a request: from its Idempotency-Key when given, else a new ULID. */
export function apiRunId(route: string, idempotencyKey: string | undefined, now: Date): string {
  if (idempotencyKey === undefined) return newRunId(now);
  if (!IDEMPOTENCY_KEY.test(idempotencyKey))
    throw new InvalidRequest("Idempotency-Key must be 1-200 printable ASCII characters", {
      field: "Idempotency-Key",
    });
  return runIdForIdempotencyKey(route, idempotencyKey);
}

export function requestHash(body: unknown): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

/** A run the API found already recorded under the request's id: the same request, or a conflict. */
export function sameRequest(existing: Run, hash: string | undefined): Run {
  if (hash !== undefined && existing.requestHash !== undefined && existing.requestHash !== hash)
    throw new Conflict(
      "idempotency-key-reused",
      `Idempotency-Key was used for a different request (run ${existing.id})`,
    );
  return existing;
}

export function newTrainingRun(args: {
  id: string;
  bucket: string;
  key: string;
  versionId: string;
  options: RunOptions;
  now: Date;
  retryOf?: string;
  requestHash?: string;
}): Run {
  return {
    ...queuedTrainingRun(args),
    optionsSource: "request",
    notes: args.retryOf ? [`a retry of run ${args.retryOf}`] : [],
    ...(args.retryOf ? { retryOf: args.retryOf } : {}),
    ...(args.requestHash ? { requestHash: args.requestHash } : {}),
  };
}
