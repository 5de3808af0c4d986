/** What the REST API does with the model registry: list names, read one, approve or reject a version. */
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

/** GET /models/{name}: every version, newest first, and the newest Approved one. */
export async function modelDetail(
  ports: Pick<Ports, "models">,
  name: string,
): Promise<{ versions: ModelVersion[]; approvedVersion?: number }> {
  const versions = await ports.models.versions(name);
  if (versions.length === 0) throw new NotFound("model", `no model named ${name} is registered`);
  const approved = newestApproved(versions)?.version;
  return { versions, ...(approved !== undefined ? { approvedVersion: approved } : {}) };
}

/**
 * Approves or rejects a version, recording who, when and why. Deciding what is already decided
 * is a Conflict (core/registry.ts); so is a decision that lost a race with another reviewer.
 */
export async function decideVersion(
  ports: Pick<Ports, "models" | "now">,
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
  return ports.models.setApproval(current, {
    approval: decideApproval(current.approval, args.decision),
    decidedBy: args.by,
    decidedAt: ports.now().toISOString(),
    ...(args.reason ? { reason: args.reason } : {}),
  });
}
