/**
 * Starting a recorded training run: its execution input is derived from the run alone, the
 * execution is named after the run, and the execution's ARN is recorded. Calling it again for
 * the same run starts nothing new (Step Functions answers the same name and input
 * idempotently), so every entry point (drop, POST /runs, retry) may call it on redelivery.
 */
import type { InstanceDefaults } from "../core/pipeline-input.js";
import { pipelineInput } from "../core/pipeline-input.js";
import type { Run } from "../core/run-record.js";
import type { PipelineStarter } from "./pipeline.js";
import type { RunsStore } from "./runs-store.js";

export interface LaunchSettings {
  region: string;
  codeSha256: string;
  instanceDefaults?: InstanceDefaults;
}

export async function launchTrainingRun(
  runs: RunsStore,
  pipeline: PipelineStarter,
  run: Run,
  settings: LaunchSettings,
): Promise<string> {
  const input = pipelineInput({
    runId: run.id,
    bucket: run.dataset.bucket,
    region: settings.region,
    source: { key: run.dataset.key, versionId: run.dataset.versionId },
    kind: run.dataset.kind ?? "table",
    options: run.options,
    codeSha256: settings.codeSha256,
    ...(settings.instanceDefaults ? { instanceDefaults: settings.instanceDefaults } : {}),
  });
  const executionArn = await pipeline.start(run.id, input);
  if (!run.executionArn) await runs.update(run.id, { executionArn }, "exists");
  return executionArn;
}
