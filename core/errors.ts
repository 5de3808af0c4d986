/**
 * The failures an API caller can act on, each a named class with the HTTP status and stable
 * code it maps to (handlers/api/http.ts turns them into RFC 9457 problem documents).
 */

import type { z } from "zod";

export abstract class ApiError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** The request field at fault, when there is one. */
  readonly field: string | undefined;

  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options);
    this.field = options?.field;
  }
}

/** 400: the request is malformed; `field` names the part at fault. */
export class InvalidRequest extends ApiError {
  override readonly name: string = "InvalidRequest";
  readonly status = 400;
  readonly code: string = "invalid-request";
}

/** 400: a code archive modeldrop cannot run (its files or its modeldrop.json). */
export class InvalidCode extends InvalidRequest {
  override readonly name = "InvalidCode";
  override readonly code = "invalid-code";
}

/** 404: the run, model, version or object does not exist. */
export class NotFound extends ApiError {
  override readonly name: string = "NotFound";
  readonly status = 404;
  readonly code: string;
  constructor(
    what: "run" | "model" | "model-version" | "code" | "code-version" | "object" | "endpoint",
    message: string,
  ) {
    super(message);
    this.code = `${what}-not-found`;
  }
}

/** A run that does not exist: a NotFound (404 through the API), named for Step Functions' Catch and the logs. */
export class RunNotFound extends NotFound {
  override readonly name = "RunNotFound";
  constructor(message: string) {
    super("run", message);
  }
}

/** 409: the change conflicts with the current state (cancel an ended run, approve twice…). */
export class Conflict extends ApiError {
  override readonly name = "Conflict";
  readonly status = 409;
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** 413: more bytes than modeldrop accepts. */
export class TooLarge extends ApiError {
  override readonly name = "TooLarge";
  readonly status = 413;
  readonly code = "too-large";
}

/** 502: the model's own code failed on a request (a 5xx from its serving container). */
export class ModelFailed extends ApiError {
  override readonly name = "ModelFailed";
  readonly status = 502;
  readonly code = "model-error";
}

/**
 * Data modeldrop stored (a run record, a model version, the state a pipeline task receives)
 * that does not match its schema: a bug or a hand edit, never the caller's fault, so it is not
 * an ApiError and answers 500. The message names the item and the field at fault.
 */
export class StoredDataInvalid extends Error {
  override readonly name = "StoredDataInvalid";
}

/** `value` parsed with `schema`, or StoredDataInvalid naming `what` and the first field at fault. */
export function parseStored<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || "(the whole item)";
  throw new StoredDataInvalid(`${what} does not match its schema: ${field}: ${issue?.message}`, {
    cause: parsed.error,
  });
}
