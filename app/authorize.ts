/**
 * Whether a request may use the API: its `Authorization: Bearer <token>` matches the API
 * token, a secret read at run time. The comparison takes the same time whatever the token; the
 * token is never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Ports } from "./ports.js";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Equal strings, compared in constant time (the digests have one length whatever the input). */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The principal the request acts as ("api-token"), or undefined when it is refused. */
export async function authorize(
  ports: Pick<Ports, "secrets" | "log">,
  authorization: string | undefined,
  tokenParameter: string,
): Promise<string | undefined> {
  const given = bearerToken(authorization);
  if (!given) return undefined;
  const expected = await ports.secrets.read(tokenParameter);
  if (!expected) {
    ports.log.error("no API token is stored; every request is refused", {
      parameter: tokenParameter,
    });
    return undefined;
  }
  return sameToken(given, expected) ? "api-token" : undefined;
}
