// Debian's Chromium, as the browser tests and the dashboard benchmark launch it through
// playwright-core (which never downloads a browser of its own). CI installs it (.ci/run).
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

/** Headless, as root (no sandbox), and quiet: nothing fetched but what the page asks for. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why a browser test cannot run here, or undefined; under CI a missing browser fails instead. */
export function chromiumMissing(): string | undefined {
  return !existsSync(CHROMIUM) && !process.env.CI
    ? `${CHROMIUM} is absent (apt-get install -y chromium); CI installs it and runs this test`
    : undefined;
}
