/** POST /runs/{id}/retry: a new run on the same input version and options, linked to the old. */
import type { LaunchSettings } from "../../app/launch.js";
import type { Ports } from "../../app/ports.js";
import { retryRun } from "../../app/runs.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toAccepted } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export interface Deps {
  ports: Pick<Ports, "runs" | "models" | "pipeline" | "predictions" | "code" | "now">;
  settings: () => LaunchSettings;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.retryRun, async ({ params }) => {
    const run = await retryRun(deps.ports, params.id, deps.settings());
    return { status: 202, body: toAccepted(run) };
  });
}

export const handler = makeHandler({ ports, settings: () => config().launch });
