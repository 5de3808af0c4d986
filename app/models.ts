/**
 * What the REST API does with the model registry: list names, read one, approve or reject a
 * version, and set or clear the model's deploy-on-approval.
 */
import {
  DEFAULT_IDLE_MINUTES,
  type DeployOnApproval,
  type EndpointRequest,
  settingsFor,
} from "../core/endpoints.js";
import { NotFound } from "../core/errors.js";
import {
  type Decision,
  decideApproval,
  type ModelVersion,
  newestApproved,
} from "../core/registry.js";
import type { Ports } from "./ports.js";

export interface ModelSummary {
  name: string;
  latestVersion: number;
  approvedVersion?: number;
}

/** GET /models: registered names with their latest and newest Approved versions. */
export async function listModels(
  ports: Pick<Ports, "models">,
  limit: number,
  cursor?: string,
): Promise<{ models: ModelSummary[]; next?: string }> {
  const page = await ports.models.names(limit, cursor);
  // One versions Query per name on the page (at most `limit`), read at once.
  const models = await Promise.all(
    page.names.map(async ({ name, latestVersion }) => {
      const approved = newestApproved(await ports.models.versions(name))?.version;
      return {
        name,
        latestVersion,
        ...(approved !== undefined ? { approvedVersion: approved } : {}),
      };
    }),
  );
  return { models, ...(page.next ? { next: page.next } : {}) };
}

/** GET /models/{name}: every version, newest first, the newest Approved one, and deploy-on-approval. */
export async function modelDetail(
  ports: Pick<Ports, "models">,
  name: string,
): Promise<{
  versions: ModelVersion[];
  approvedVersion?: number;
  deployOnApproval?: DeployOnApproval;
}> {
  const [versions, deployOnApproval] = await Promise.all([
    ports.models.versions(name),
    ports.models.deployOnApproval(name),
  ]);
  if (versions.length === 0) throw new NotFound("model", `no model named ${name} is registered`);
  const approved = newestApproved(versions)?.version;
  return {
    versions,
    ...(approved !== undefined ? { approvedVersion: approved } : {}),
    ...(deployOnApproval ? { deployOnApproval } : {}),
  };
}

/**
 * PUT /models/{name}/deploy-on-approval: from now on each version that becomes the model's newest
 * Approved one is served with these settings (defaults filled in, as a create fills them). A model
 * with no version yet may have it, so its first approved version deploys too; nothing is
 * deployed by setting it (create the endpoint, or approve a version).
 */
export async function setDeployOnApproval(
  ports: Pick<Ports, "models" | "now">,
  args: { name: string; request: Omit<EndpointRequest, "version">; by: string },
): Promise<DeployOnApproval> {
  const setting: DeployOnApproval = {
    mode: args.request.mode,
    settings: settingsFor(args.request),
    idleTimeoutMinutes: args.request.idleTimeoutMinutes ?? DEFAULT_IDLE_MINUTES,
    setBy: args.by,
    setAt: ports.now().toISOString(),
  };
  await ports.models.setDeployOnApproval(args.name, setting);
  return setting;
}

/** DELETE /models/{name}/deploy-on-approval: approvals deploy nothing more; endpoints stay. */
export async function clearDeployOnApproval(
  ports: Pick<Ports, "models">,
  name: string,
): Promise<void> {
  await ports.models.setDeployOnApproval(name, undefined);
}

/**
 * Approves or rejects a version, recording who, when and why. Deciding what is already decided
 * is a Conflict (core/registry.ts); so is a decision that lost a race with another reviewer.
 * An approval is announced ("Model Version Approved", for deploy-on-approval); the decision
 * stands when the announcement fails, which is logged (a retried decision would be a Conflict).
 */
export async function decideVersion(
  ports: Pick<Ports, "models" | "modelEvents" | "log" | "now">,
  args: {
    name: string;
    version: number;
    decision: Decision;
    by: string;
    reason?: string | undefined;
  },
): Promise<ModelVersion> {
  const current = (await ports.models.versions(args.name)).find((v) => v.version === args.version);
  if (!current)
    throw new NotFound("model-version", `model ${args.name} has no version ${args.version}`);
  const decided = await ports.models.setApproval(current, {
    approval: decideApproval(current.approval, args.decision),
    decidedBy: args.by,
    decidedAt: ports.now().toISOString(),
    ...(args.reason ? { reason: args.reason } : {}),
  });
  if (decided.approval === "Approved")
    await announceApproval(ports, decided).catch((error: unknown) =>
      ports.log.error("the approval could not be announced; deploy-on-approval will not see it", {
        modelName: decided.modelName,
        version: decided.version,
        error,
      }),
    );
  return decided;
}

/** "Model Version Approved" for a version that is Approved (by its gate or a reviewer). */
export function announceApproval(
  ports: Pick<Ports, "modelEvents">,
  version: Pick<ModelVersion, "modelName" | "version" | "decidedBy" | "runId">,
): Promise<void> {
  return ports.modelEvents.versionApproved({
    modelName: version.modelName,
    version: version.version,
    approvedBy: version.decidedBy ?? "unknown",
    runId: version.runId,
  });
}
