// The real stack for pipeline tests: `serverless package` (offline) into a temp folder, then a
// local cloud built from it and provisioned as `modeldrop up` provisions it (code, API token).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import {
  packageStack as packageInto,
  provisionLocalStack,
  STACK_NAME,
} from "../../cli/local-stack.js";
import { buildCode, type StagedCode } from "../../cli/stage-code.js";
import type { LocalCloudOptions } from "../../local/cloud.js";
import { defaultJobSlots } from "../../local/sagemaker-runner.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "..", "..");

export function packageStack(): string {
  const dir = mkdtempSync(join(tmpdir(), "modeldrop-package-"));
  packageInto(ROOT, dir);
  return dir;
}

/**
 * A local cloud with the stack. `stackDir` is an already packaged stack (vitest's global
 * setup); without one the stack is packaged here, and `cleanup` removes that package too.
 */
export async function startPipelineCloud(
  options: Partial<LocalCloudOptions> = {},
  packaged?: string,
) {
  const stackDir = packaged ?? packageStack();
  const code: StagedCode = buildCode(ROOT);
  const started = await startTestCloud({
    stack: {
      dir: stackDir,
      stackName: STACK_NAME,
      parameters: {
        CodeSha256: code.sha256,
        NoticeEmail: "ml-team@example.com",
        TrainingParallelJobs: String(options.jobSlots ?? defaultJobSlots()),
      },
    },
    ...options,
  });
  const s3 = new S3Client({ ...started.config, forcePathStyle: true });
  const { bucket, token } = await provisionLocalStack(started.cloud, code);
  const cleanup = async () => {
    await started.cleanup();
    if (!packaged) rmSync(stackDir, { recursive: true, force: true });
  };
  return { ...started, cleanup, s3, bucket, code, token };
}

export type { ClientConfig };
