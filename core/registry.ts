/**
 * The model registry's rules: which approval changes are allowed, and which version a
 * prediction uses when none is named (the newest Approved one).
 */
import { z } from "zod";
import { Conflict, NotFound } from "./errors.js";

const APPROVALS = ["Approved", "Pending", "Rejected"] as const;
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

/** What a version was trained to take and give: its predictions are only comparable when these match. */
export const ModelSchema = z.object({
  task: z.string(),
  target: z.string(),
  /** Feature columns (what a prediction's rows must carry) with the kind preprocess gave each. */
  features: z.array(z.object({ name: z.string(), kind: z.string() })),
});
export type ModelSchema = z.infer<typeof ModelSchema>;

/** One registered version, as the Models table holds it (parsed when read, never cast). */
export const ModelVersion = z.object({
  modelName: z.string(),
  version: z.number().int().positive(),
  artifact: z.string(),
  sageMakerModel: z.string(),
  runId: z.string(),
  metrics: z.record(z.string(), z.number()),
  approval: z.enum(APPROVALS),
  /** Who set the approval and when ("quality-gate" when the run approved it). */
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  reason: z.string().optional(),
  createdAt: z.string(),
  /** What the version takes and predicts (from preprocess's profile.json). */
  schema: ModelSchema.optional(),
  /** Set when the schema differs from the version before it, which kept this one Pending. */
  schemaChange: z.string().optional(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

/** A registered model name and its newest version number (the per-name counter item). */
export const ModelName = z.object({ name: z.string(), latestVersion: z.number().int() });
export type ModelName = z.infer<typeof ModelName>;

/** The schema in preprocess's profile.json: every column that is neither the target nor dropped. */
export function schemaFromProfile(profile: {
  target?: { name: string; task: string } | undefined;
  columns?: { name: string; role?: string | undefined }[] | undefined;
}): ModelSchema | undefined {
  if (!profile.target) return undefined;
  return {
    task: profile.target.task,
    target: profile.target.name,
    features: (profile.columns ?? [])
      .filter((c) => c.role !== "target" && c.role !== "dropped")
      .map((c) => ({ name: c.name, kind: c.role ?? "unknown" })),
  };
}

const LISTED_NAMES = 10;

function nameList(names: string[]): string {
  const shown = names.slice(0, LISTED_NAMES).join(", ");
  return names.length > LISTED_NAMES ? `${shown} and ${names.length - LISTED_NAMES} more` : shown;
}

/** How `next` differs from `previous`, one phrase per difference; empty when they match. */
export function schemaChanges(previous: ModelSchema, next: ModelSchema): string[] {
  const changes: string[] = [];
  if (previous.task !== next.task) changes.push(`task ${previous.task} -> ${next.task}`);
  if (previous.target !== next.target) changes.push(`target ${previous.target} -> ${next.target}`);
  const before = new Map(previous.features.map((f) => [f.name, f.kind]));
  const after = new Map(next.features.map((f) => [f.name, f.kind]));
  const missing = [...before.keys()].filter((name) => !after.has(name));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const retyped = [...after].filter(
    ([name, kind]) => before.has(name) && before.get(name) !== kind,
  );
  if (missing.length > 0) changes.push(`columns no longer used: ${nameList(missing)}`);
  if (added.length > 0) changes.push(`new columns: ${nameList(added)}`);
  if (retyped.length > 0)
    changes.push(
      `columns read differently: ${nameList(retyped.map(([name, kind]) => `${name} (${before.get(name)} -> ${kind})`))}`,
    );
  return changes;
}

/**
 * The approval a new version gets. A version whose schema differs from the model's newest one
 * is not the same kind of model: it never silently becomes the version predictions use. It is
 * registered Pending, with the differences, for a person to approve (or to register under
 * another `modelName`). Otherwise the gate's pass approves it, unless the run asked for manual
 * approval.
 */
export function approvalForNewVersion(args: {
  modelName: string;
  manualApproval: boolean;
  schema: ModelSchema | undefined;
  newest: { version: number; schema?: ModelSchema | undefined } | undefined;
}): { approval: Approval; schemaChange?: string } {
  const changes =
    args.schema && args.newest?.schema ? schemaChanges(args.newest.schema, args.schema) : [];
  if (changes.length > 0)
    return {
      approval: "Pending",
      schemaChange: `its schema differs from ${args.modelName} version ${args.newest?.version} (${changes.join("; ")}); registered Pending so predictions keep using the newest Approved version. Approve it if it is meant to replace that one, or train with another modelName.`,
    };
  return { approval: args.manualApproval ? "Pending" : "Approved" };
}
