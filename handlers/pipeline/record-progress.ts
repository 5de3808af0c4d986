/** Records the step a run is entering and the times of the jobs finished so far. */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { stepTimings } from "../../core/pipeline-state.js";
import type { Run } from "../../core/run-record.js";
import { STEPS } from "../../core/runs.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ step: z.enum(STEPS), state: z.unknown() });

export function makeHandler(deps: { root: Pick<Root, "runs"> }) {
  return async (event: unknown): Promise<{ recorded: boolean }> => {
    const { step, state: raw } = Payload.parse(event);
    const state = pipelineState(raw);
    const fields: Partial<Run> = { status: "RUNNING", step, steps: stepTimings(state) };
    if (step === "copy-input") {
      // The first step: what the run will be built from.
      fields.lineage = {
        codeSha256: state.code.sha256,
        images: Object.fromEntries(
          Object.entries(state.jobs).map(([job, spec]) => [job, spec.image]),
        ),
      };
      // A prediction run was created knowing its model version; a training run learns it later.
      if (!("kind" in state && state.kind === "predict")) fields.model = { name: state.model.name };
    }
    // A run that already ended (stopped by the user) stays as it is.
    return { recorded: await deps.root.runs().update(state.runId, fields) };
  };
}

export const handler = makeHandler({ root });
