/** Configuration the run-starting routes share, read once from the function's environment. */
import { instanceDefaults, readEnvironment } from "../../aws/config.js";
import type { LaunchSettings } from "../../aws/run-launcher.js";

let settings: LaunchSettings | undefined;

export function launchSettings(): LaunchSettings {
  if (!settings) {
    const env = readEnvironment(["AWS_REGION", "CODE_SHA256"]);
    settings = {
      region: env.AWS_REGION,
      codeSha256: env.CODE_SHA256,
      instanceDefaults: instanceDefaults(),
    };
  }
  return settings;
}
