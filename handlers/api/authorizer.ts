/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses): a request passes when its
 * `Authorization: Bearer <token>` matches the API token, an SSM SecureString read at run time
 * (cached for minutes). The comparison takes the same time whatever the token; the token is
 * never logged.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { readEnvironment } from "../../aws/config.js";
import { type Root, root } from "../../aws/root.js";

const logger = new Logger({ serviceName: "modeldrop-api", logLevel: "INFO" });

const AuthorizerEvent = z.object({
  headers: z.record(z.string(), z.string()).optional(),
  identitySource: z.array(z.string()).nullish(),
});

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Equal strings, compared in constant time (the digests have one length whatever the input). */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

export interface Deps {
  root: Pick<Root, "secrets">;
  parameterName: () => string;
}

export function makeHandler(deps: Deps) {
  return async (
    event: unknown,
  ): Promise<{ isAuthorized: boolean; context?: Record<string, string> }> => {
    const parsed = AuthorizerEvent.safeParse(event);
    if (!parsed.success) return { isAuthorized: false };
    const headers = Object.fromEntries(
      Object.entries(parsed.data.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const given = bearerToken(headers.authorization ?? parsed.data.identitySource?.[0]);
    if (!given) return { isAuthorized: false };
    const expected = await deps.root.secrets().read(deps.parameterName());
    if (!expected) {
      logger.error("no API token is stored; every request is refused", {
        parameter: deps.parameterName(),
      });
      return { isAuthorized: false };
    }
    if (!sameToken(given, expected)) return { isAuthorized: false };
    return { isAuthorized: true, context: { principal: "api-token" } };
  };
}

export const handler = makeHandler({
  root,
  parameterName: () => readEnvironment(["API_TOKEN_PARAMETER"]).API_TOKEN_PARAMETER,
});
