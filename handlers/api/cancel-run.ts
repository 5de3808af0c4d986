/**
 * POST /runs/{id}/cancel: stops the run's execution (its job is stopped with it). The run
 * becomes STOPPED when Step Functions reports the abort (on-execution-end), which also sends
 * its notice; a run that never started is recorded STOPPED here.
 */
import { type Root, root } from "../../aws/root.js";
import { sendRunNotice } from "../../aws/run-notice.js";
import { ROUTES } from "../../core/api.js";
import { Conflict } from "../../core/errors.js";
import { runPath } from "../../core/run-view.js";
import { isTerminal } from "../../core/runs.js";
import { apiRoute } from "./http.js";

export interface Deps {
  root: Pick<Root, "runs" | "pipeline" | "notices">;
  now: () => Date;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.cancelRun, async ({ params, principal }) => {
    const runs = deps.root.runs();
    const run = await runs.require(params.id);
    if (isTerminal(run.status))
      throw new Conflict("run-ended", `run ${run.id} already ended ${run.status}`);
    if (run.executionArn) {
      await deps.root
        .pipeline()
        .stop(run.executionArn, `cancelled through the API by ${principal}`);
    } else if (
      await runs.update(run.id, { status: "STOPPED", endedAt: deps.now().toISOString() })
    ) {
      await sendRunNotice(runs, deps.root.notices(), run.id);
    }
    const now = await runs.require(run.id);
    return { status: 202, body: { id: run.id, status: now.status, url: runPath(run.id) } };
  });
}

export const handler = makeHandler({ root, now: () => new Date() });
