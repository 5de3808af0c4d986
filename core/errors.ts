/**
 * The failures an API caller can act on, each a named class with the HTTP status and stable
 * code it maps to (handlers/api/http.ts turns them into RFC 9457 problem documents).
 */

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
  override readonly name = "InvalidRequest";
  readonly status = 400;
  readonly code = "invalid-request";
}

/** 404: the run, model, version or object does not exist. */
export class NotFound extends ApiError {
  override readonly name: string = "NotFound";
  readonly status = 404;
  readonly code: string;
  constructor(what: "run" | "model" | "model-version" | "object", message: string) {
    super(message);
    this.code = `${what}-not-found`;
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
