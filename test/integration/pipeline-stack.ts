// The real stack for pipeline tests: `serverless package` (offline) into a temp folder, ml/
// staged as the deploy step stages it, and a local cloud built from both.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { buildCode, type StagedCode, uploadCode } from "../../cli/stage-code.js";
import type { LocalCloudOptions } from "../../local/cloud.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "..", "..");

export function packageStack(): string {
  const dir = mkdtempSync(join(tmpdir(), "modeldrop-package-"));
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules", "serverless", "bin", "serverless.js"), "package", "--package", dir],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
  );
  return dir;
}

export async function startPipelineCloud(options: Partial<LocalCloudOptions> = {}) {
  const code: StagedCode = buildCode(ROOT);
  const started = await startTestCloud({
    stack: {
      dir: packageStack(),
      stackName: "modeldrop-dev",
      parameters: { CodeSha256: code.sha256, NoticeEmail: "ml-team@example.com" },
    },
    ...options,
  });
  const s3 = new S3Client({ ...started.config, forcePathStyle: true });
  const bucket = started.cloud.stack?.outputs.DataBucketName ?? "";
  await uploadCode(s3, bucket, code);
  return { ...started, s3, bucket, code };
}

export type { ClientConfig };
