/**
 * POST /models/{name}/versions/{version}/approve and /reject: who decided, when and why are
 * recorded on the version; deciding what is already decided is a 409. An approval is announced
 * on EventBridge (deploy-on-approval listens).
 */
import { decideVersion } from "../../app/models.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import type { Decision } from "../../core/registry.js";
import { apiRoute } from "./http.js";
import { versionView } from "./model-view.js";

export function makeHandler(
  decision: Decision,
  deps: { ports: Pick<Ports, "models" | "modelEvents" | "log" | "now"> },
) {
  const spec = decision === "approve" ? ROUTES.approveModel : ROUTES.rejectModel;
  return apiRoute(spec, async ({ params, body, principal }) => {
    const decided = await decideVersion(deps.ports, {
      name: params.name,
      version: params.version,
      decision,
      by: body.by ?? principal,
      reason: body.reason,
    });
    return { status: 200, body: versionView(decided) };
  });
}

export const approve = makeHandler("approve", { ports });
export const reject = makeHandler("reject", { ports });
