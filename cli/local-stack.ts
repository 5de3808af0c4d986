/**
 * The modeldrop stack on the local cloud, set up as `modeldrop deploy` sets it up on AWS: the
 * packaged stack (`serverless package`, offline), ml/ stored at `code/<sha256>/`, and the API
 * token, created on first start in the state folder and stored as the stack's SecureString.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deployment, type StagedCode } from "../aws/deployment.js";
import type { LocalCloud } from "../local/cloud.js";
import { buildDashboard } from "../web/build.js";

export const STACK_NAME = "modeldrop-dev";
export const TOKEN_FILE = "api-token";

/** `serverless package` (osls, offline) into `dir`, the dashboard built first (it is packaged). */
export function packageStack(projectRoot: string, dir: string): void {
  buildDashboard(projectRoot);
  // `--package .serverless` loses the function zips (the framework clears its own folder while
  // copying them there), so the default folder is asked for by leaving the flag out.
  const into = resolve(dir) === resolve(projectRoot, ".serverless") ? [] : ["--package", dir];
  const serverless = join(projectRoot, "node_modules", "serverless", "bin", "serverless.js");
  const result = spawnSync(process.execPath, [serverless, "package", ...into], {
    cwd: projectRoot,
    encoding: "utf8",
  });
  if (result.status !== 0)
    throw new Error(
      `serverless package failed (exit ${result.status}):\n${`${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-25).join("\n")}`,
    );
}

/** The state folder's API token, made (32 random bytes, base64url) on first use. */
export function localApiToken(stateDir: string): string {
  const path = join(stateDir, TOKEN_FILE);
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(stateDir, { recursive: true });
  const token = randomBytes(32).toString("base64url");
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Stores the code and the API token where the stack's functions and jobs read them. */
export async function provisionLocalStack(
  cloud: LocalCloud,
  code: StagedCode,
): Promise<{ bucket: string; token: string }> {
  const outputs = cloud.stack?.outputs ?? {};
  const bucket = outputs.DataBucketName;
  const tokenParameter = outputs.ApiTokenParameterName;
  if (!bucket || !tokenParameter)
    throw new Error("the packaged stack has no DataBucketName or ApiTokenParameterName output");
  const local = deployment({ region: cloud.region, endpoint: cloud.endpoint });
  await local.uploadCode(bucket, code);
  const token = localApiToken(cloud.stateDir);
  await local.putSecret(tokenParameter, token);
  return { bucket, token };
}
