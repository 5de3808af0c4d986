/** GET /runs: newest first, filtered by status, model, dataset or kind, a page at a time. */
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toRunSummary } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { root: Pick<Root, "runs"> }) {
  return apiRoute(ROUTES.listRuns, async ({ query }) => {
    const { limit, cursor, ...filter } = query;
    const page = await deps.root.runs().list(filter, limit, cursor);
    return {
      status: 200,
      body: { runs: page.runs.map(toRunSummary), ...(page.next ? { next: page.next } : {}) },
    };
  });
}

export const handler = makeHandler({ root });
