/**
 * PUT /models/{name}/deploy-on-approval (each newly Approved version is served with these
 * endpoint settings) and DELETE /models/{name}/deploy-on-approval (no more).
 */
import { clearDeployOnApproval, setDeployOnApproval } from "../../app/models.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

type Deps = { ports: Pick<Ports, "models" | "now"> };

export function makeSet(deps: Deps) {
  return apiRoute(ROUTES.setDeployOnApproval, async ({ params, body, principal }) => {
    const setting = await setDeployOnApproval(deps.ports, {
      name: params.name,
      request: body,
      by: principal,
    });
    return { status: 200, body: { modelName: params.name, deployOnApproval: setting } };
  });
}

export function makeClear(deps: Deps) {
  return apiRoute(ROUTES.clearDeployOnApproval, async ({ params }) => {
    await clearDeployOnApproval(deps.ports, params.name);
    return { status: 200, body: { modelName: params.name, deployOnApproval: null } };
  });
}

export const set = makeSet({ ports });
export const clear = makeClear({ ports });
