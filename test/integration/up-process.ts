// `modeldrop up` as a process of its own, for tests that kill it the way a crash would.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "modeldrop.mjs");

export interface UpProcess {
  child: ChildProcess;
  /** The AWS endpoint. */
  endpoint: string;
  /** The stack's HTTP API, when the stack has routes. */
  apiEndpoint: string | undefined;
  /** Every line it printed so far. */
  lines: string[];
  /** SIGKILL, as a crash or the OOM killer would: no cleanup runs. */
  crash(): Promise<void>;
}

/** Starts `modeldrop up` and resolves once it has printed where it listens. */
export function startUp(args: string[]): Promise<UpProcess> {
  const child = spawn(process.execPath, [BIN, "up", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const crash = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  return new Promise((resolveStart, reject) => {
    let endpoint: string | undefined;
    let apiEndpoint: string | undefined;
    child.stderr?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    child.once("exit", (code) =>
      reject(new Error(`modeldrop up exited with ${code}: ${lines.join("\n")}`)),
    );
    if (!child.stdout) return reject(new Error("no stdout"));
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      endpoint ??= /^local cloud: (http:\/\/\S+)/.exec(line)?.[1];
      apiEndpoint ??= /^http api: +(http:\/\/\S+)/.exec(line)?.[1];
      // `state:` comes after both endpoints, and `inbox:` after it when a folder is watched.
      if (endpoint && line.startsWith(args.includes("--inbox") ? "inbox:" : "state:"))
        resolveStart({ child, endpoint, apiEndpoint, lines, crash });
    });
  });
}

/**
 * Processes still working inside a state folder: their command line or working directory is
 * under it (a job runs in its job folder there). Waits up to `graceMs` for them to go.
 */
export async function processesUnder(stateDir: string, graceMs = 3000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found: string[] = [];
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
        if (state === "Z") continue;
        if (cmdline.includes(stateDir) || cwd.startsWith(stateDir))
          found.push(`${pid}: ${cmdline}`);
      } catch {
        /* gone already, or not ours to read */
      }
    }
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}
