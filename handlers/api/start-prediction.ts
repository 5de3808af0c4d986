/**
 * POST /predictions: batch predictions on an object under inputs/ with a registered model
 * version (default: the newest Approved one), run by the batch-predict state machine and
 * tracked as a run of kind `predict`.
 */
import type { Ports } from "../../app/ports.js";
import { type ApiSettings, startPrediction } from "../../app/runs.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { toAccepted } from "../../core/run-view.js";
import { apiRoute } from "./http.js";

export interface Deps {
  ports: Pick<Ports, "runs" | "objects" | "models" | "predictions" | "now">;
  settings: () => ApiSettings;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.startPrediction, async ({ body, headers }) => {
    const run = await startPrediction(
      deps.ports,
      body,
      headers["idempotency-key"],
      deps.settings(),
    );
    return { status: 202, body: toAccepted(run) };
  });
}

export const handler = makeHandler({ ports, settings: () => config().api });
