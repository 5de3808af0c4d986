/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses): a request passes when its
 * `Authorization: Bearer <token>` matches the API token, an SSM SecureString read at run time
 * (cached for minutes). An event that is not an authorizer request is refused, not thrown.
 */
import { APIGatewayRequestAuthorizerEventV2Schema } from "@aws-lambda-powertools/parser/schemas";
import { authorize } from "../../app/authorize.js";
import type { Ports } from "../../app/ports.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { answeringHandler } from "../lambda.js";

export interface Deps {
  ports: Pick<Ports, "secrets" | "log">;
  parameterName: () => string;
}

interface Answer {
  isAuthorized: boolean;
  context?: Record<string, string>;
}

export function makeHandler(deps: Deps) {
  return answeringHandler(
    APIGatewayRequestAuthorizerEventV2Schema,
    async (parsed): Promise<Answer> => {
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
    },
  );
}

export const handler = makeHandler({
  ports,
  parameterName: () => config().parameters.apiToken,
});
