/** GET /models/{name}: every version with its metrics and approval, newest first. */
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { NotFound } from "../../core/errors.js";
import { newestApproved } from "../../core/registry.js";
import { apiRoute } from "./http.js";
import { versionView } from "./model-view.js";

export function makeHandler(deps: { root: Pick<Root, "models"> }) {
  return apiRoute(ROUTES.getModel, async ({ params }) => {
    const versions = await deps.root.models().versions(params.name);
    if (versions.length === 0)
      throw new NotFound("model", `no model named ${params.name} is registered`);
    const approved = newestApproved(versions)?.version;
    return {
      status: 200,
      body: {
        name: params.name,
        ...(approved !== undefined ? { approvedVersion: approved } : {}),
        versions: versions.map(versionView),
      },
    };
  });
}

export const handler = makeHandler({ root });
