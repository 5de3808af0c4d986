/**
 * Registers the trained model as the next version of its name: Approved when the gate passed,
 * Pending when the run asks for manual approval. A retried task finds the version it made.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import type { Approval } from "../../core/registry.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown(), artifact: z.string().startsWith("s3://") });

export function makeHandler(deps: { root: Pick<Root, "runs" | "models">; now: () => Date }) {
  return async (event: unknown): Promise<{ name: string; version: number; approval: Approval }> => {
    const parsed = Payload.parse(event);
    const state = pipelineState(parsed.state);
    const runs = deps.root.runs();
    const run = await runs.require(state.runId);
    if (run.model?.version !== undefined && run.model.approval)
      return {
        name: run.model.name,
        version: run.model.version,
        approval: run.model.approval as Approval,
      };
    const approval: Approval = state.model.manualApproval ? "Pending" : "Approved";
    const models = deps.root.models();
    const version = await models.nextVersion(state.model.name);
    await models.put({
      modelName: state.model.name,
      version,
      artifact: parsed.artifact,
      sageMakerModel: state.model.sageMakerName,
      runId: state.runId,
      metrics: run.metrics ?? {},
      approval,
      createdAt: deps.now().toISOString(),
      ...(approval === "Approved"
        ? { decidedBy: "quality-gate", decidedAt: deps.now().toISOString() }
        : {}),
    });
    await runs.update(state.runId, {
      model: { name: state.model.name, version, approval, artifact: parsed.artifact },
    });
    return { name: state.model.name, version, approval };
  };
}

export const handler = makeHandler({ root, now: () => new Date() });
