// The AWS JSON protocol (1.0 and 1.1): the operation is named in `X-Amz-Target`
// (`<Prefix>.<Operation>`), the input is a JSON object, errors are `{__type, message}`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsError, parseJsonObject, readBody, sendJson, sendJsonError } from "./http.js";

export type Operation = (input: Record<string, unknown>) => unknown;

export interface JsonService {
  readonly contentType: string;
  /** Called before an operation runs; throws AwsError to refuse it (e.g. validation against the API model). */
  validate?(operation: string, input: Record<string, unknown>): void;
  readonly operations: Record<string, Operation>;
}

export async function serveJson(
  service: JsonService,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.slice(target.indexOf(".") + 1);
    const input = parseJsonObject(await readBody(req));
    const run = service.operations[operation];
    if (!operation || !run)
      throw new AwsError(
        "UnknownOperationException",
        `Operation ${operation || "(none)"} is not supported`,
      );
    service.validate?.(operation, input);
    sendJson(res, 200, await run(input), service.contentType);
  } catch (error) {
    sendJsonError(res, toAwsError(error), service.contentType);
  }
}

export function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  return new AwsError(
    "InternalFailure",
    error instanceof Error ? error.message : String(error),
    500,
  );
}

/** Reads a required string member, answering AWS's ValidationException when it is missing. */
export function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new AwsError(
      "ValidationException",
      `1 validation error detected: Value null at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" ? value : undefined;
}

export function optionalNumber(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  return typeof value === "number" ? value : undefined;
}
