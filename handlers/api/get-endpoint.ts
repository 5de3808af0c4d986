/** GET /models/{name}/endpoints/{mode}: the model's endpoint of that mode, with its history. */
import { endpointDetail } from "../../app/endpoints.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { endpointView } from "./endpoint-view.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "endpoints" | "now"> }) {
  return apiRoute(ROUTES.getEndpoint, async ({ params }) => {
    const record = await endpointDetail(deps.ports, params.name, params.mode);
    return { status: 200, body: endpointView(record, deps.ports.now()) };
  });
}

export const handler = makeHandler({ ports });
