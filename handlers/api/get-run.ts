/**
 * GET /runs/{id}: the whole run record, the running job's latest progress line, presigned
 * links to its outputs once they exist, and the notice's delivery attempts.
 */
import type { Ports } from "../../app/ports.js";
import { runDetail } from "../../app/runs.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export interface Deps {
  ports: Pick<Ports, "runs" | "objects" | "jobLogs" | "deliveryStatus">;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.getRun, async ({ params }) => ({
    status: 200,
    body: await runDetail(deps.ports, params.id),
  }));
}

export const handler = makeHandler({ ports });
