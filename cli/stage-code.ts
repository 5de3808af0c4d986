/**
 * ml/ as SageMaker receives it: the reproducible sourcedir.tar.gz and the processing bootstrap,
 * stored content-addressed at `code/<sha256>/` in the data bucket. The deploy script does the
 * same on AWS; the stack takes the hash as its CodeSha256 parameter.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export interface StagedCode {
  sha256: string;
  archive: string;
  bootstrap: string;
}

export function buildCode(projectRoot: string): StagedCode {
  const archive = join(mkdtempSync(join(tmpdir(), "modeldrop-code-")), "sourcedir.tar.gz");
  const sha256 = execFileSync(
    resolve(projectRoot, ".venv", "bin", "python"),
    ["-m", "modeldrop_ml.sourcedir", "--out", archive],
    { cwd: resolve(projectRoot, "ml"), encoding: "utf8" },
  ).trim();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`sourcedir printed ${sha256}, not a sha256`);
  return { sha256, archive, bootstrap: resolve(projectRoot, "ml", "bootstrap.py") };
}

export async function uploadCode(s3: S3Client, bucket: string, code: StagedCode): Promise<void> {
  const prefix = `code/${code.sha256}`;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${prefix}/sourcedir.tar.gz`,
      Body: readFileSync(code.archive),
      ContentType: "application/gzip",
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${prefix}/bootstrap.py`,
      Body: readFileSync(code.bootstrap),
      ContentType: "text/x-python",
    }),
  );
}
