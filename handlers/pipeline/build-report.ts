/** Writes the run's self-contained HTML report next to its outputs and records where it is. */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { writeRunReport } from "../../aws/run-report.js";
import { StepSummaries } from "../../core/pipeline-state.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { root: Pick<Root, "runs" | "objects"> }) {
  return async (event: unknown): Promise<{ report: string }> => {
    const state = pipelineState(Payload.parse(event).state);
    const modelUri = StepSummaries.safeParse(state.steps ?? {}).data?.train?.model;
    const report = await writeRunReport(deps.root.runs(), deps.root.objects(), {
      runId: state.runId,
      bucket: state.bucket,
      reportKey: state.paths.reportKey,
      evaluationKey: state.paths.evaluationKey,
      ...(modelUri ? { modelUri } : {}),
    });
    return { report };
  };
}

export const handler = makeHandler({ root });
