// Small HTTP helpers shared by every emulated service: reading bodies, answering, and the
// error shapes of the two wire protocols the AWS SDK speaks to us (JSON and XML).
import type { IncomingMessage, ServerResponse } from "node:http";

/** A request body larger than this is refused rather than buffered (the local cloud holds bodies in memory). */
export const MAX_REQUEST_BYTES = 2 * 1024 ** 3;

/**
 * The whole body, refused once it passes `limit` bytes: the local cloud's own limit, unless the
 * service has a smaller one with an error of its own.
 */
export async function readBody(
  req: IncomingMessage,
  limit = MAX_REQUEST_BYTES,
  tooLarge: () => AwsError = () =>
    new AwsError("EntityTooLarge", "request body exceeds the local cloud limit of 2 GiB", 400),
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** An error answered in the service's own wire format, with AWS's error name. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = "application/x-amz-json-1.1",
): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId(),
  });
  res.end(text);
}

export function sendJsonError(
  res: ServerResponse,
  error: AwsError,
  contentType = "application/x-amz-json-1.1",
): void {
  const text = JSON.stringify({ __type: error.code, message: error.message, ...error.extra });
  res.writeHead(error.status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-errortype": error.code,
    "x-amzn-requestid": requestId(),
  });
  res.end(text);
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendXml(
  res: ServerResponse,
  status: number,
  xml: string,
  headers: Record<string, string> = {},
): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

let requestCounter = 0;
export function requestId(): string {
  requestCounter += 1;
  return `${Date.now().toString(16)}-${requestCounter.toString(16).padStart(8, "0")}`;
}

/** Reads a JSON object from a JSON-protocol body; anything else is AWS's SerializationException. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new AwsError("SerializationException", "the request body is not valid JSON");
  }
  if (!isRecord(parsed))
    throw new AwsError("SerializationException", "the request body must be a JSON object");
  return parsed;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
