// Which AWS service a request is for, read from its SigV4 credential scope
// (`<key>/<date>/<region>/<service>/aws4_request`). The local cloud accepts any credentials,
// so the signature itself is not checked; only the scope routes the request.
import type { IncomingMessage } from "node:http";

export interface SigningScope {
  accessKeyId: string;
  region: string;
  service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

export function scopeFromHeaders(req: IncomingMessage): SigningScope | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization !== "string") return undefined;
  const match = SCOPE.exec(authorization);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

/** Presigned URLs carry the scope in `X-Amz-Credential`. */
export function scopeFromQuery(query: URLSearchParams): SigningScope | undefined {
  return parseCredential(
    query.get("X-Amz-Credential") ?? query.get("x-amz-credential") ?? undefined,
  );
}

export function parseCredential(credential: string | undefined): SigningScope | undefined {
  const parts = credential?.split("/");
  if (parts?.length !== 5 || parts[4] !== "aws4_request") return undefined;
  const [accessKeyId, , region, service] = parts;
  if (!accessKeyId || !region || !service) return undefined;
  return { accessKeyId, region, service };
}

/** `20250101T120000Z` → epoch milliseconds. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
}
