// One local cloud per test file, in a fresh state directory, with SDK clients pointed at it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from "../../local/cloud.js";

export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export async function startTestCloud(
  options: Partial<LocalCloudOptions> = {},
): Promise<{ cloud: LocalCloud; config: ClientConfig; cleanup: () => Promise<void> }> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "modeldrop-cloud-"));
  const cloud = await startLocalCloud({ ...options, stateDir });
  const config = {
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  };
  return {
    cloud,
    config,
    cleanup: async () => {
      await cloud.stop();
      if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
