/**
 * Reads the evaluate job's evaluation.json, records the test metrics and the training run's
 * libraries, and decides the quality gate the state machine's Choice tests.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import {
  decideGate,
  EvaluationInvalid,
  type Gate,
  headlineMetrics,
  parseEvaluation,
} from "../../core/evaluation.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { root: Pick<Root, "runs" | "objects"> }) {
  return async (event: unknown): Promise<Gate> => {
    const state = pipelineState(Payload.parse(event).state);
    const text = await deps.root.objects().getText(state.bucket, state.paths.evaluationKey);
    if (text === undefined)
      throw new EvaluationInvalid(
        `the evaluate job wrote no evaluation.json at s3://${state.bucket}/${state.paths.evaluationKey}`,
      );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new EvaluationInvalid("evaluation.json is not valid JSON", { cause: error });
    }
    const evaluation = parseEvaluation(json);
    const gate = decideGate(evaluation, state.options);
    const runs = deps.root.runs();
    const run = await runs.require(state.runId);
    const libraries = evaluation.modeldrop.model_info?.libraries;
    await runs.update(state.runId, {
      metrics: headlineMetrics(evaluation),
      gate,
      lineage: {
        ...run.lineage,
        algorithm: evaluation.modeldrop.algorithm,
        ...(libraries ? { libraries } : {}),
      },
    });
    return gate;
  };
}

export const handler = makeHandler({ root });
