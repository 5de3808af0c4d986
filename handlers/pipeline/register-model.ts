/**
 * Registers the trained model as the next version of its name: Approved when the gate passed,
 * Pending when the run asks for manual approval or when the version's schema (task, target,
 * feature columns) differs from the model's newest version. A retried task finds the version
 * it made.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { type Approval, approvalForNewVersion, schemaFromProfile } from "../../core/registry.js";
import { Profile } from "../../core/report.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown(), artifact: z.string().startsWith("s3://") });

export function makeHandler(deps: {
  root: Pick<Root, "runs" | "models" | "objects">;
  now: () => Date;
}) {
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
    const models = deps.root.models();
    const profileText = await deps.root
      .objects()
      .getText(state.bucket, `runs/${state.runId}/processed/profile.json`);
    const profile = profileText ? Profile.safeParse(parseJsonOrNull(profileText)).data : undefined;
    const schema = profile ? schemaFromProfile(profile) : undefined;
    const { approval, schemaChange } = approvalForNewVersion({
      modelName: state.model.name,
      manualApproval: state.model.manualApproval,
      schema,
      newest: await models.newest(state.model.name),
    });
    const version = await models.nextVersion(state.model.name);
    const now = deps.now().toISOString();
    await models.put({
      modelName: state.model.name,
      version,
      artifact: parsed.artifact,
      sageMakerModel: state.model.sageMakerName,
      runId: state.runId,
      metrics: run.metrics ?? {},
      approval,
      createdAt: now,
      ...(schema ? { schema } : {}),
      ...(schemaChange ? { schemaChange } : {}),
      ...(approval === "Approved" ? { decidedBy: "quality-gate", decidedAt: now } : {}),
    });
    await runs.update(state.runId, {
      model: { name: state.model.name, version, approval, artifact: parsed.artifact },
      ...(schemaChange ? { notes: [...run.notes, `Version ${version} ${schemaChange}`] } : {}),
    });
    return { name: state.model.name, version, approval };
  };
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const handler = makeHandler({ root, now: () => new Date() });
