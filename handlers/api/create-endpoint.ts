/**
 * POST /models/{name}/endpoints: an endpoint for an Approved version (202, Creating; follow it
 * at its `url` until InService or Failed).
 */
import { createEndpoint } from "../../app/endpoints.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { endpointView } from "./endpoint-view.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: {
  ports: Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now">;
}) {
  return apiRoute(ROUTES.createEndpoint, async ({ params, body, principal }) => {
    const record = await createEndpoint(deps.ports, {
      modelName: params.name,
      request: body,
      by: principal,
    });
    return { status: 202, body: endpointView(record, deps.ports.now()) };
  });
}

export const handler = makeHandler({ ports });
