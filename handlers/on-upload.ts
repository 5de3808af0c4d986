/**
 * EventBridge "Object Created" under inbox/ → a training run. The run id comes from the exact
 * object version, the run is recorded with a conditional put, and StartExecution is always
 * called with the run id as name and a deterministic input: a duplicate delivery, or a retry
 * after a crash between the put and the start, ends with exactly one run and one execution.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { instanceDefaults, readEnvironment } from "../aws/config.js";
import type { Objects } from "../aws/objects.js";
import { type Root, root } from "../aws/root.js";
import { launchTrainingRun } from "../aws/run-launcher.js";
import { sendRunNotice } from "../aws/run-notice.js";
import {
  classifyDrop,
  decodeEventKey,
  dropRun,
  OPTIONS_METADATA_KEY,
  type OptionSources,
  sidecarKey,
} from "../core/drops.js";
import type { InstanceDefaults } from "../core/pipeline-input.js";
import { isTerminal, runIdForDrop } from "../core/runs.js";

const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });

export const ObjectCreated = z.object({
  "detail-type": z.literal("Object Created"),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().min(0).optional(),
      "version-id": z.string().optional(),
    }),
  }),
});

export interface Deps {
  root: Pick<Root, "runs" | "objects" | "pipeline" | "notices">;
  region: string;
  codeSha256: string;
  instanceDefaults?: InstanceDefaults;
  now: () => Date;
}

export type Outcome =
  | { outcome: "ignored"; reason: string }
  | { outcome: "started" | "rejected"; runId: string };

async function optionSources(
  objects: Objects,
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

export function makeHandler(deps: Deps) {
  return async (event: unknown): Promise<Outcome> => {
    const parsed = ObjectCreated.parse(event);
    const bucket = parsed.detail.bucket.name;
    const key = decodeEventKey(parsed.detail.object.key);
    const versionId = parsed.detail.object["version-id"] ?? "null";
    const decision = classifyDrop(key, parsed.detail.object.size ?? 1);
    if (decision.action === "ignore") {
      logger.info("not a dataset; ignored", { bucket, key, reason: decision.reason });
      return { outcome: "ignored", reason: decision.reason };
    }
    const runs = deps.root.runs();
    const objects = deps.root.objects();
    const runId = runIdForDrop(bucket, key, versionId);
    let run = await runs.get(runId);
    if (!run) {
      const head = await objects.head(bucket, key, versionId === "null" ? undefined : versionId);
      if (!head) {
        logger.warn("the dropped object is gone; nothing to train on", { bucket, key, versionId });
        return { outcome: "ignored", reason: "the object no longer exists" };
      }
      const sources =
        decision.action === "train"
          ? await optionSources(objects, bucket, key, head.metadata, head.lastModified)
          : {};
      const fresh = dropRun({
        id: runId,
        bucket,
        key,
        versionId,
        decision,
        sources,
        now: deps.now(),
      });
      if ((await runs.create(fresh)) && fresh.failure)
        logger.warn("drop rejected", { runId, bucket, key, reason: fresh.failure.reason });
      run = (await runs.get(runId)) ?? fresh;
    }
    if (run.status === "FAILED" && run.failure?.step === "intake") {
      await sendRunNotice(runs, deps.root.notices(), runId);
      return { outcome: "rejected", runId };
    }
    // A run that already ended (or was cancelled before it started) is not started again.
    if (isTerminal(run.status)) return { outcome: "started", runId };
    const executionArn = await launchTrainingRun(runs, deps.root.pipeline(), run, {
      region: deps.region,
      codeSha256: deps.codeSha256,
      ...(deps.instanceDefaults ? { instanceDefaults: deps.instanceDefaults } : {}),
    });
    logger.info("run started", { runId, bucket, key, versionId, executionArn });
    return { outcome: "started", runId };
  };
}

let configured: ReturnType<typeof makeHandler> | undefined;

export const handler = (event: unknown): Promise<Outcome> => {
  if (!configured) {
    const env = readEnvironment(["AWS_REGION", "CODE_SHA256"]);
    configured = makeHandler({
      root,
      region: env.AWS_REGION,
      codeSha256: env.CODE_SHA256,
      instanceDefaults: instanceDefaults(),
      now: () => new Date(),
    });
  }
  return configured(event);
};
