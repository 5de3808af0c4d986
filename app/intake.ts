/**
 * A dropped object → a training run. The run id comes from the exact object version, the run
 * is recorded with a conditional put, and StartExecution is always called with the run id as
 * name and a deterministic input: a duplicate delivery, or a retry after a crash between the
 * put and the start, ends with exactly one run and one execution. A drop refused at intake
 * (unreadable format, invalid options) is recorded FAILED and gets its notice.
 */
import {
  classifyDrop,
  decodeEventKey,
  dropRun,
  OPTIONS_METADATA_KEY,
  type OptionSources,
  sidecarKey,
} from "../core/drops.js";
import { InvalidCode, NotFound } from "../core/errors.js";
import { runIdForDrop } from "../core/run-ids.js";
import type { Run } from "../core/run-record.js";
import { isTerminal } from "../core/runs.js";
import { type LaunchSettings, launchTrainingRun, withPinnedCode } from "./launch.js";
import { sendRunNotice } from "./notice.js";
import type { ObjectStore, Ports } from "./ports.js";

export interface Drop {
  bucket: string;
  /** As S3 puts it in the event: URL-encoded, `+` for a space. */
  encodedKey: string;
  size?: number | undefined;
  versionId?: string | undefined;
}

export type DropOutcome =
  | { outcome: "ignored"; reason: string }
  | { outcome: "started" | "rejected"; runId: string };

async function optionSources(
  objects: ObjectStore,
  bucket: string,
  key: string,
  metadata: Record<string, string>,
  droppedAt: Date | undefined,
): Promise<OptionSources> {
  const sources: OptionSources = {};
  const fromMetadata = metadata[OPTIONS_METADATA_KEY];
  if (fromMetadata !== undefined) sources.metadata = fromMetadata;
  const sidecar = await objects.head(bucket, sidecarKey(key));
  if (sidecar) {
    const text = (await objects.getText(bucket, sidecarKey(key))) ?? "";
    const writtenBefore =
      !droppedAt || !sidecar.lastModified || sidecar.lastModified.getTime() <= droppedAt.getTime();
    sources.sidecar = { text, writtenBefore };
  }
  return sources;
}

/** A drop whose options name code that is not registered is refused at intake, like bad options. */
async function pinDropCode(
  ports: Pick<Ports, "code">,
  run: Run,
  settings: LaunchSettings,
): Promise<Run> {
  if (run.status === "FAILED") return run;
  try {
    return await withPinnedCode(ports, run, settings);
  } catch (error) {
    const name =
      error instanceof NotFound
        ? "CodeNotFound"
        : error instanceof InvalidCode
          ? "InvalidCode"
          : undefined;
    if (!name || !(error instanceof Error)) throw error;
    return {
      ...run,
      status: "FAILED",
      endedAt: run.createdAt,
      failure: { step: "intake", error: name, reason: error.message },
    };
  }
}

export async function takeDrop(
  ports: Pick<Ports, "runs" | "objects" | "pipeline" | "code" | "notices" | "log" | "now">,
  drop: Drop,
  settings: LaunchSettings,
): Promise<DropOutcome> {
  const { bucket } = drop;
  const key = decodeEventKey(drop.encodedKey);
  const versionId = drop.versionId ?? "null";
  const decision = classifyDrop(key, drop.size ?? 1);
  if (decision.action === "ignore") {
    ports.log.info("not a dataset; ignored", { bucket, key, reason: decision.reason });
    return { outcome: "ignored", reason: decision.reason };
  }
  const runId = runIdForDrop(bucket, key, versionId);
  let run = await ports.runs.get(runId);
  if (!run) {
    const head = await ports.objects.head(
      bucket,
      key,
      versionId === "null" ? undefined : versionId,
    );
    if (!head) {
      ports.log.warn("the dropped object is gone; nothing to train on", { bucket, key, versionId });
      return { outcome: "ignored", reason: "the object no longer exists" };
    }
    const sources =
      decision.action === "train"
        ? await optionSources(ports.objects, bucket, key, head.metadata, head.lastModified)
        : {};
    const fresh = await pinDropCode(
      ports,
      dropRun({ id: runId, bucket, key, versionId, decision, sources, now: ports.now() }),
      settings,
    );
    if ((await ports.runs.create(fresh)) && fresh.failure)
      ports.log.warn("drop rejected", { runId, bucket, key, reason: fresh.failure.reason });
    run = (await ports.runs.get(runId)) ?? fresh;
  }
  if (run.status === "FAILED" && run.failure?.step === "intake") {
    await sendRunNotice(ports, runId);
    return { outcome: "rejected", runId };
  }
  // A run that already ended (or was cancelled before it started) is not started again.
  if (isTerminal(run.status)) return { outcome: "started", runId };
  const executionArn = await launchTrainingRun(ports, run, settings);
  ports.log.info("run started", { runId, bucket, key, versionId, executionArn });
  return { outcome: "started", runId };
}
