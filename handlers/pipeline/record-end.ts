/**
 * Records how the pipeline ended (SUCCEEDED, BELOW_THRESHOLD or FAILED with the failed step,
 * the job's own reason and its log), with the step times and what the jobs cost. A run already
 * ended (stopped by the user) keeps its status.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { runCost } from "../../core/cost.js";
import { describeFailure, jobUsage, stepTimings } from "../../core/pipeline-state.js";
import type { Run } from "../../core/run-record.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({
  outcome: z.enum(["SUCCEEDED", "BELOW_THRESHOLD", "FAILED"]),
  state: z.unknown(),
});

export function makeHandler(deps: { root: Pick<Root, "runs">; now: () => Date }) {
  return async (event: unknown): Promise<{ status: string; recorded: boolean }> => {
    const { outcome, state: raw } = Payload.parse(event);
    const state = pipelineState(raw);
    const fields: Partial<Run> = {
      status: outcome,
      endedAt: deps.now().toISOString(),
      steps: stepTimings(state),
      cost: runCost(jobUsage(state)),
    };
    if (outcome === "SUCCEEDED") fields.predictions = `${state.paths.predictions}/`;
    if (outcome === "FAILED") fields.failure = describeFailure(state);
    const recorded = await deps.root.runs().update(state.runId, fields);
    const run = await deps.root.runs().require(state.runId);
    return { status: run.status, recorded };
  };
}

export const handler = makeHandler({ root, now: () => new Date() });
