/** POST /runs/{id}/retry: a new run on the same input version and options, linked to the old. */
import { type Root, root } from "../../aws/root.js";
import { type LaunchSettings, launchTrainingRun } from "../../aws/run-launcher.js";
import { ROUTES } from "../../core/api.js";
import { newTrainingRun } from "../../core/api-runs.js";
import { Conflict } from "../../core/errors.js";
import { runPath } from "../../core/run-view.js";
import { isTerminal, newRunId } from "../../core/runs.js";
import { apiRoute } from "./http.js";
import { launchSettings } from "./settings.js";
import { launchPrediction, type PredictionDeps } from "./start-prediction.js";

export interface Deps extends PredictionDeps {
  root: Pick<Root, "runs" | "pipeline" | "predictions" | "models">;
  settings: () => LaunchSettings;
  now: () => Date;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.retryRun, async ({ params }) => {
    const runs = deps.root.runs();
    const old = await runs.require(params.id);
    if (!isTerminal(old.status))
      throw new Conflict("run-not-ended", `run ${old.id} is ${old.status}; cancel it or wait`);
    const id = newRunId(deps.now());
    if (old.kind === "predict") {
      const run = await launchPrediction(deps, { id, from: old });
      return { status: 202, body: { id, status: run.status, url: runPath(id) } };
    }
    const run = newTrainingRun({
      id,
      bucket: old.dataset.bucket,
      key: old.dataset.key,
      versionId: old.dataset.versionId,
      options: old.options,
      now: deps.now(),
      retryOf: old.id,
    });
    await runs.create(run);
    await launchTrainingRun(runs, deps.root.pipeline(), run, deps.settings());
    return { status: 202, body: { id, status: run.status, url: runPath(id) } };
  });
}

export const handler = makeHandler({ root, settings: launchSettings, now: () => new Date() });
