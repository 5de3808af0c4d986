/**
 * ml/ as SageMaker receives it: the reproducible sourcedir.tar.gz and the processing bootstrap,
 * named by the archive's sha256. `modeldrop deploy` and the local cloud's set-up both store
 * them at `code/<sha256>/` in the data bucket (aws/deployment.ts); the stack takes the hash as
 * its CodeSha256 parameter.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StagedCode } from "../aws/deployment.js";

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

export type { StagedCode };
