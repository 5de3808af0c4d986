/** GET /models: registered model names with their latest and newest Approved versions. */
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { newestApproved } from "../../core/registry.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { root: Pick<Root, "models"> }) {
  return apiRoute(ROUTES.listModels, async ({ query }) => {
    const models = deps.root.models();
    const page = await models.names(query.limit, query.cursor);
    const summaries = [];
    for (const { name, latestVersion } of page.names) {
      const approved = newestApproved(await models.versions(name))?.version;
      summaries.push({
        name,
        latestVersion,
        ...(approved !== undefined ? { approvedVersion: approved } : {}),
        url: `/models/${name}`,
      });
    }
    return {
      status: 200,
      body: { models: summaries, ...(page.next ? { next: page.next } : {}) },
    };
  });
}

export const handler = makeHandler({ root });
