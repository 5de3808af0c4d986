/**
 * GET /runs/{id}/logs?step=: a job's log. Without a cursor, the newest events (a tail); with
 * the `next` of an earlier answer, what was logged since, so a client follows by polling.
 */
import type { Ports } from "../../app/ports.js";
import { runLogs } from "../../app/runs.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "jobLogs"> }) {
  return apiRoute(ROUTES.getRunLogs, async ({ params, query }) => ({
    status: 200,
    body: await runLogs(deps.ports, params.id, query),
  }));
}

export const handler = makeHandler({ ports });
