/** Records the step a run is entering and the times of the jobs finished so far. */
import { z } from "zod";
import { recordProgress } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { JOB_STEP_NAME, STEPS } from "../../core/runs.js";
import { lambdaHandler } from "../lambda.js";

/** A built-in step, a search's candidate or one of the user's processing steps (a Map's item). */
const Payload = z.object({
  step: z.union([z.enum(STEPS), z.string().regex(JOB_STEP_NAME)]),
  state: z.unknown(),
});

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "objects"> }) {
  return lambdaHandler(Payload, (event) =>
    recordProgress(deps.ports, event.step, parsePipelineState(event.state)),
  );
}

export const handler = makeHandler({ ports });
