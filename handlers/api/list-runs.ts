/** GET /runs: newest first, filtered by status, model, dataset or kind, a page at a time. */
import type { Ports } from "../../app/ports.js";
import { listRuns } from "../../app/runs.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toRunSummary } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "runs"> }) {
  return apiRoute(ROUTES.listRuns, async ({ query }) => {
    const { limit, cursor, ...filter } = query;
    const page = await listRuns(deps.ports, filter, limit, cursor);
    return {
      status: 200,
      body: { runs: page.runs.map(toRunSummary), ...(page.next ? { next: page.next } : {}) },
    };
  });
}

export const handler = makeHandler({ ports });
