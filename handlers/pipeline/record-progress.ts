/** Records the step a run is entering and the times of the jobs finished so far. */
import { z } from "zod";
import { recordProgress } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { STEPS } from "../../core/runs.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ step: z.enum(STEPS), state: z.unknown() });

export function makeHandler(deps: { ports: Pick<Ports, "runs"> }) {
  return lambdaHandler(Payload, (event) =>
    recordProgress(deps.ports, event.step, parsePipelineState(event.state)),
  );
}

export const handler = makeHandler({ ports });
