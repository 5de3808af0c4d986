/**
 * The model registry's rules: which approval changes are allowed, and which version a
 * prediction uses when none is named (the newest Approved one).
 */
import { Conflict, NotFound } from "./errors.js";

export const APPROVALS = ["Approved", "Pending", "Rejected"] as const;
export type Approval = (typeof APPROVALS)[number];
export type Decision = "approve" | "reject";

/**
 * Pending can go either way; an Approved version can be rejected (withdrawn) and a Rejected
 * one approved after all. Deciding what is already decided is a conflict, not a silent no-op,
 * so two reviewers racing find out.
 */
export function decideApproval(current: Approval, decision: Decision): Approval {
  const next: Approval = decision === "approve" ? "Approved" : "Rejected";
  if (current === next) throw new Conflict("already-decided", `the version is already ${current}`);
  return next;
}

export interface VersionLike {
  version: number;
  approval: Approval;
}

/** The newest Approved version, or undefined when none is. */
export function newestApproved<V extends VersionLike>(versions: readonly V[]): V | undefined {
  return [...versions].sort((a, b) => b.version - a.version).find((v) => v.approval === "Approved");
}

/** The named version, or the newest Approved one. */
export function versionForPrediction<V extends VersionLike>(
  modelName: string,
  versions: readonly V[],
  requested?: number,
): V {
  if (requested !== undefined) {
    const named = versions.find((v) => v.version === requested);
    if (!named)
      throw new NotFound("model-version", `model ${modelName} has no version ${requested}`);
    if (named.approval === "Rejected")
      throw new Conflict(
        "version-rejected",
        `model ${modelName} version ${requested} was rejected; approve it or name another`,
      );
    return named;
  }
  const approved = newestApproved(versions);
  if (!approved)
    throw new Conflict(
      "no-approved-version",
      `model ${modelName} has no Approved version; approve one or name a version`,
    );
  return approved;
}
