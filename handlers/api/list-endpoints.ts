/** GET /endpoints: every endpoint, newest first, filtered by model and status. */
import { listEndpoints } from "../../app/endpoints.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { endpointView } from "./endpoint-view.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "endpoints" | "now"> }) {
  return apiRoute(ROUTES.listEndpoints, async ({ query }) => {
    const records = await listEndpoints(deps.ports, query);
    const now = deps.ports.now();
    return { status: 200, body: { endpoints: records.map((r) => endpointView(r, now)) } };
  });
}

export const handler = makeHandler({ ports });
