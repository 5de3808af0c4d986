/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses): a request passes when its
 * `Authorization: Bearer <token>` matches the API token, an SSM SecureString read at run time
 * (cached for minutes). An event that is not an authorizer request is refused, not thrown.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { parser } from "@aws-lambda-powertools/parser/middleware";
import { APIGatewayRequestAuthorizerEventV2Schema } from "@aws-lambda-powertools/parser/schemas";
import type { ParsedResult } from "@aws-lambda-powertools/parser/types";
import middy from "@middy/core";
import type { z } from "zod";
import { authorize } from "../../app/authorize.js";
import type { Ports } from "../../app/ports.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { logger } from "../lambda.js";

type AuthorizerEvent = z.infer<typeof APIGatewayRequestAuthorizerEventV2Schema>;

export interface Deps {
  ports: Pick<Ports, "secrets" | "log">;
  parameterName: () => string;
}

interface Answer {
  isAuthorized: boolean;
  context?: Record<string, string>;
}

export function makeHandler(deps: Deps) {
  return middy<ParsedResult<unknown, AuthorizerEvent>, Answer>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(parser({ schema: APIGatewayRequestAuthorizerEventV2Schema, safeParse: true }))
    .handler(async (parsed) => {
      if (!parsed.success) return { isAuthorized: false };
      const event = parsed.data;
      const headers = Object.fromEntries(
        Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const principal = await authorize(
        deps.ports,
        headers.authorization ?? event.identitySource?.[0],
        deps.parameterName(),
      );
      return principal ? { isAuthorized: true, context: { principal } } : { isAuthorized: false };
    });
}

export const handler = makeHandler({
  ports,
  parameterName: () => config().parameters.apiToken,
});
