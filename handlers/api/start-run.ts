/**
 * POST /runs: a training run on an object already under inbox/, with options from the body.
 * 202 with the run's id; an Idempotency-Key makes the same request name the same run.
 */
import type { Ports } from "../../app/ports.js";
import { type ApiSettings, startRun } from "../../app/runs.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toAccepted } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export interface Deps {
  ports: Pick<Ports, "runs" | "objects" | "pipeline" | "code" | "now">;
  settings: () => ApiSettings;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.startRun, async ({ body, headers }) => {
    const run = await startRun(deps.ports, body, headers["idempotency-key"], deps.settings());
    return { status: 202, body: toAccepted(run) };
  });
}

export const handler = makeHandler({ ports, settings: () => config().api });
