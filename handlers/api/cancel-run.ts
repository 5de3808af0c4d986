/**
 * POST /runs/{id}/cancel: stops the run's execution; the run becomes STOPPED when Step
 * Functions reports the abort (app/runs.ts cancelRun).
 */
import type { Ports } from "../../app/ports.js";
import { cancelRun } from "../../app/runs.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toAccepted } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export interface Deps {
  ports: Pick<Ports, "runs" | "pipeline" | "notices" | "log" | "now">;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.cancelRun, async ({ params, principal }) => {
    const run = await cancelRun(deps.ports, params.id, principal);
    return { status: 202, body: toAccepted(run) };
  });
}

export const handler = makeHandler({ ports });
