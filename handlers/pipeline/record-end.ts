/** Records how the pipeline ended, with the step times and what the jobs cost. */
import { z } from "zod";
import { recordEnd } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({
  outcome: z.enum(["SUCCEEDED", "BELOW_THRESHOLD", "FAILED"]),
  state: z.unknown(),
});

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "now"> }) {
  return lambdaHandler(Payload, (event) =>
    recordEnd(deps.ports, event.outcome, parsePipelineState(event.state)),
  );
}

export const handler = makeHandler({ ports });
