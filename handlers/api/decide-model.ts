/**
 * POST /models/{name}/versions/{version}/approve and /reject: who decided, when and why are
 * recorded on the version; deciding what is already decided is a 409.
 */
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import type { Decision } from "../../core/registry.js";
import { apiRoute } from "./http.js";
import { versionView } from "./model-view.js";

export function makeHandler(
  decision: Decision,
  deps: { root: Pick<Root, "models">; now: () => Date },
) {
  const spec = decision === "approve" ? ROUTES.approveModel : ROUTES.rejectModel;
  return apiRoute(spec, async ({ params, body, principal }) => {
    const decided = await deps.root
      .models()
      .decide(params.name, params.version, decision, body.by ?? principal, deps.now(), body.reason);
    return { status: 200, body: versionView(decided) };
  });
}

export const approve = makeHandler("approve", { root, now: () => new Date() });
export const reject = makeHandler("reject", { root, now: () => new Date() });
