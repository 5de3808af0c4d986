/** GET /models/{name}: every version with its metrics and approval, newest first, and deploy-on-approval. */
import { modelDetail } from "../../app/models.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";
import { versionView } from "./model-view.js";

export function makeHandler(deps: { ports: Pick<Ports, "models"> }) {
  return apiRoute(ROUTES.getModel, async ({ params }) => {
    const { versions, approvedVersion, deployOnApproval } = await modelDetail(
      deps.ports,
      params.name,
    );
    return {
      status: 200,
      body: {
        name: params.name,
        ...(approvedVersion !== undefined ? { approvedVersion } : {}),
        ...(deployOnApproval ? { deployOnApproval } : {}),
        versions: versions.map(versionView),
      },
    };
  });
}

export const handler = makeHandler({ ports });
