/**
 * What arrives in the inbox: which objects are datasets, and where their options come from.
 */
import { parseRunOptions, type RunOptions } from "./options.js";
import type { DatasetKind, Run } from "./run-record.js";
import { defaultModelName, fileName } from "./runs.js";

export const INBOX_PREFIX = "inbox/";
const SIDECAR_SUFFIX = ".modeldrop.json";
/** The object metadata key (`x-amz-meta-modeldrop-options`) holding the run options as JSON. */
export const OPTIONS_METADATA_KEY = "modeldrop-options";

const TABLE_EXTENSIONS = [".csv", ".tsv", ".txt", ".parquet"];
const IMAGE_EXTENSIONS = [".zip"];

export type DropDecision =
  | { action: "ignore"; reason: string }
  | { action: "reject"; reason: string }
  | { action: "train"; kind: DatasetKind };

/** S3 event keys are URL-encoded with `+` for a space. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replaceAll("+", " "));
}

/**
 * Folders, sidecar option files and empty objects are not runs (ignored with a logged reason);
 * a file of a format modeldrop cannot read becomes a failed run, so the user hears about it.
 */
export function classifyDrop(key: string, size: number): DropDecision {
  if (!key.startsWith(INBOX_PREFIX)) return { action: "ignore", reason: "it is not under inbox/" };
  if (key.endsWith("/")) return { action: "ignore", reason: "it is a folder marker" };
  const name = fileName(key).toLowerCase();
  if (name.endsWith(SIDECAR_SUFFIX))
    return { action: "ignore", reason: "it is a sidecar options file, read with its dataset" };
  if (size === 0) return { action: "ignore", reason: "it is empty (0 bytes)" };
  if (TABLE_EXTENSIONS.some((ext) => name.endsWith(ext))) return { action: "train", kind: "table" };
  if (IMAGE_EXTENSIONS.some((ext) => name.endsWith(ext)))
    return { action: "train", kind: "images" };
  return {
    action: "reject",
    reason: `${fileName(key)} is not a format modeldrop reads: drop a CSV (.csv, .tsv, .txt), Parquet (.parquet) or a zip of images in class folders (.zip)`,
  };
}

/** `inbox/data.csv` → `inbox/data.csv.modeldrop.json`. */
export function sidecarKey(key: string): string {
  return `${key}${SIDECAR_SUFFIX}`;
}

export interface OptionSources {
  /** The `modeldrop-options` metadata value, when the object has one. */
  metadata?: string;
  /** The sidecar's text and whether it was written before the dataset. */
  sidecar?: { text: string; writtenBefore: boolean };
}

export interface ResolvedOptions {
  options: RunOptions;
  source: "metadata" | "sidecar" | "none";
  notes: string[];
}

/**
 * Metadata wins over a sidecar; a sidecar written after the dataset is noted and not applied
 * (the run may already have read the defaults). Invalid options throw InvalidOptions naming
 * the field; JSON that does not parse names its source.
 */
export function resolveOptions(sources: OptionSources): ResolvedOptions {
  const notes: string[] = [];
  if (sources.metadata !== undefined) {
    if (sources.sidecar) notes.push("a sidecar options file was ignored: metadata options win");
    return {
      options: parseRunOptions(parseJson(sources.metadata, "metadata")),
      source: "metadata",
      notes,
    };
  }
  if (sources.sidecar && !sources.sidecar.writtenBefore) {
    notes.push("the sidecar options file arrived after the dataset and was not applied");
    return { options: {}, source: "none", notes };
  }
  if (sources.sidecar)
    return {
      options: parseRunOptions(parseJson(sources.sidecar.text, "sidecar")),
      source: "sidecar",
      notes,
    };
  return { options: {}, source: "none", notes };
}

/** Options that are not JSON: named like an invalid option so the run says what to fix. */
export class OptionsNotJson extends Error {
  override readonly name = "OptionsNotJson";
  readonly field = "(options)";
}

function parseJson(text: string, where: "metadata" | "sidecar"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const place =
      where === "metadata"
        ? `the ${OPTIONS_METADATA_KEY} metadata`
        : `the sidecar file (${SIDECAR_SUFFIX})`;
    throw new OptionsNotJson(`the run options in ${place} are not valid JSON`, { cause: error });
  }
}

/** A training run on one object version, as every entry point records it before it starts. */
export function queuedTrainingRun(args: {
  id: string;
  bucket: string;
  key: string;
  versionId: string;
  now: Date;
  options?: RunOptions;
}): Run {
  const now = args.now.toISOString();
  const decision = classifyDrop(args.key, 1);
  const options = args.options ?? {};
  return {
    id: args.id,
    kind: "train",
    status: "QUEUED",
    createdAt: now,
    updatedAt: now,
    dataset: {
      bucket: args.bucket,
      key: args.key,
      versionId: args.versionId,
      name: fileName(args.key),
      ...(decision.action === "train" ? { kind: decision.kind } : {}),
    },
    modelName: options.modelName ?? defaultModelName(args.key),
    options,
    optionsSource: "none",
    notes: [],
  };
}

/**
 * The run record a drop starts as: QUEUED with its resolved options, or FAILED at intake when
 * the format is unreadable or the options are invalid (the run then says which and why).
 * `sources` are read only for a dataset modeldrop can train on.
 */
export function dropRun(args: {
  id: string;
  bucket: string;
  key: string;
  versionId: string;
  decision: Exclude<DropDecision, { action: "ignore" }>;
  sources: OptionSources;
  now: Date;
}): Run {
  const run = queuedTrainingRun(args);
  const now = run.createdAt;
  const failed = (error: string, reason: string): Run => ({
    ...run,
    status: "FAILED",
    endedAt: now,
    failure: { step: "intake", error, reason },
  });
  if (args.decision.action === "reject") return failed("UnsupportedFormat", args.decision.reason);
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(args.sources);
  } catch (error) {
    // InvalidOptions and OptionsNotJson name the field at fault; anything else is a bug.
    if (!(error instanceof Error) || !("field" in error)) throw error;
    return failed(error.name, error.message);
  }
  return {
    ...run,
    options: resolved.options,
    optionsSource: resolved.source,
    notes: resolved.notes,
    ...(resolved.options.modelName ? { modelName: resolved.options.modelName } : {}),
  };
}
