/**
 * POST /models/{name}/endpoints/{mode}/promote (serve another Approved version, or roll back)
 * and DELETE /models/{name}/endpoints/{mode}: both 202, followed at the endpoint's `url`.
 */
import { deleteEndpoint, promoteEndpoint } from "../../app/endpoints.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { endpointView } from "./endpoint-view.js";
import { apiRoute } from "./http.js";

type Deps = { ports: Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now"> };

export function makePromote(deps: Deps) {
  return apiRoute(ROUTES.promoteEndpoint, async ({ params, body, principal }) => {
    const record = await promoteEndpoint(deps.ports, {
      modelName: params.name,
      mode: params.mode,
      version: body.version,
      by: principal,
    });
    return { status: 202, body: endpointView(record, deps.ports.now()) };
  });
}

export function makeDelete(deps: Deps) {
  return apiRoute(ROUTES.deleteEndpoint, async ({ params, body, principal }) => {
    const record = await deleteEndpoint(deps.ports, {
      modelName: params.name,
      mode: params.mode,
      by: principal,
      reason: body.reason ?? "deleted through the API",
    });
    return { status: 202, body: endpointView(record, deps.ports.now()) };
  });
}

export const promote = makePromote({ ports });
export const remove = makeDelete({ ports });
