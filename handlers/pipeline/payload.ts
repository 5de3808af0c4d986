/** What the state machine passes its Lambda tasks: the pipeline state, checked where it is read. */
import { z } from "zod";
import type { PipelineState } from "../../core/pipeline-state.js";

const StateShape = z
  .object({
    runId: z.string().min(1),
    bucket: z.string().min(1),
    // The training pipeline has all four jobs; batch-predict has only transform.
    jobs: z.partialRecord(
      z.enum(["preprocess", "train", "evaluate", "transform"]),
      z.object({ name: z.string(), instanceType: z.string(), image: z.string() }),
    ),
  })
  .loose();

/** The state the pipeline carries; its own input shape, so only the fields handlers lean on are checked. */
export function pipelineState(value: unknown): PipelineState {
  StateShape.parse(value);
  return value as PipelineState;
}
