// Runs one SageMaker job as a local process under the SageMaker container contract (local/README.md): an
// /opt/ml-shaped folder (the job's real /opt/ml in a namespace of its own, job-namespace.ts; moved by
// MODELDROP_OPT_ML where there is none), channels and inputs staged from local S3,
// the code unpacked, SM_* variables, stdout/stderr to CloudWatch Logs, and on exit the outputs
// uploaded and the contract's failure files read back.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { jobNamespaceSupport, namespacedArgv } from "./job-namespace.js";
import type { JobReaper } from "./job-reaper.js";
import type { LogsService } from "./logs.js";
import type { ObjectStore } from "./s3-store.js";
import { downloadObject, downloadPrefix, parseS3Uri, uploadFolder } from "./s3-uri.js";

export interface JobCommand {
  /** argv; the first element is the program. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface JobOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The contract's failure text (training `output/failure`, processing `output/message`). */
  message: string | undefined;
  /** Metric values matched in the log by the job's metric definitions (last value wins). */
  metrics: Record<string, number>;
  /** The last lines the process wrote to stderr (at most STDERR_TAIL_LINES), oldest first. */
  stderrTail: string[];
  stoppedBy?: "user" | "max-runtime";
}

export interface RunningJob {
  pid: number | undefined;
  stop(reason: "user" | "max-runtime"): void;
  done: Promise<JobOutcome>;
}

export interface RunnerContext {
  store: ObjectStore;
  logs: LogsService;
  python: string;
  /** Seconds between SIGTERM and SIGKILL when a job is stopped (SageMaker waits 120). */
  stopGraceSeconds: number;
  /** Kills the jobs' process groups if the local cloud dies without stopping them. */
  reaper: JobReaper;
}

export const MESSAGE_LIMIT = 1024;
/** Enough for a Python traceback's end, which a failure reason is made of; bounded for long jobs. */
export const STDERR_TAIL_LINES = 40;
const STDERR_LINE_LIMIT = 2000;

/** A job that cannot start as asked, with the FailureReason SageMaker would give. */
export class JobCannotStart extends Error {
  override readonly name = "JobCannotStart";

  constructor(readonly failureReason: string) {
    super(failureReason);
  }
}

export interface JobView {
  /** `/opt/ml` as the job's process sees it. */
  optMl: string;
  /** Present when the job runs in a namespace of its own. */
  mounts?: { mountPoint: string; jobFolder: string };
  /** Present when it cannot: the log line that says so. */
  fallback?: string;
}

/**
 * Where a job's (or a serving process's) process finds /opt/ml: the real path in a namespace of
 * its own, or, where none can be made, its folder on the host (with the line its log starts
 * with to say so). `root` is the SageMaker state folder, which holds the namespaces' mount point.
 */
export function jobView(root: string, folder: string, namespaces: boolean): JobView {
  const support = namespaces
    ? jobNamespaceSupport()
    : { available: false as const, reason: "MODELDROP_NO_NAMESPACE=1" };
  if (support.available) {
    const mountPoint = join(root, "namespace-root");
    mkdirSync(mountPoint, { recursive: true });
    return {
      optMl: "/opt/ml",
      mounts: { mountPoint: realpathSync(mountPoint), jobFolder: realpathSync(folder) },
    };
  }
  return {
    optMl: folder,
    fallback: `modeldrop: no mount namespace for this job (${support.reason}), so /opt/ml is not its folder: MODELDROP_OPT_ML and the SM_* paths point at ${folder}, and /opt/ml/... arguments are rewritten to it`,
  };
}

/** The command as it runs in its view: inside the namespace, or as it is where there is none. */
export function inJobView(
  view: JobView,
  command: JobCommand,
  folder: string,
  /** The Python environments the process runs on, kept read-only inside the namespace. */
  environments: string[],
): JobCommand {
  if (!view.mounts) return command;
  return {
    argv: namespacedArgv(command.argv, { ...view.mounts, cwd: command.cwd, environments }),
    cwd: folder,
    env: command.env,
  };
}

/**
 * The environment every process under the container contract starts from. `optMl` is
 * MODELDROP_OPT_ML, which modeldrop's own jobs (ml/modeldrop_ml/env.py) read.
 */
export function jobEnvironment(
  python: string,
  optMl: string,
  region: string,
): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    // The framework's Python first, as in its container: a script (or the SDK's runproc.sh)
    // that runs `python` or `pip` gets the environment the job's libraries are in.
    PATH: [dirname(python), env.PATH].filter(Boolean).join(":"),
    MODELDROP_OPT_ML: optMl,
    SM_NUM_GPUS: "0",
    PYTHONUNBUFFERED: "1",
    AWS_REGION: region,
  };
}

/** Starts the process; the job's stdout and stderr go line by line to its log stream. */
export function runProcess(
  context: RunnerContext,
  command: JobCommand,
  log: { group: string; stream: string },
  options: {
    /** None for a process that serves until it is stopped (an endpoint's). */
    maxRuntimeSeconds?: number;
    metricDefinitions: { Name: string; Regex: string }[];
    /** The contract's failure file, read back when the process ends. */
    messageFile?: string;
  },
): RunningJob {
  const child: ChildProcess = spawn(command.argv[0] ?? "false", command.argv.slice(1), {
    cwd: command.cwd,
    env: command.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const group = child.pid;
  if (group) context.reaper.watch(group);
  const metrics: Record<string, number> = {};
  const patterns = options.metricDefinitions.flatMap((d) => {
    try {
      return [{ name: d.Name, regex: new RegExp(d.Regex) }];
    } catch {
      return [];
    }
  });
  const onLine = (line: string) => {
    context.logs.append(log.group, log.stream, line);
    for (const { name, regex } of patterns) {
      const value = Number(regex.exec(line)?.[1]);
      if (Number.isFinite(value)) metrics[name] = value;
    }
  };
  const stderrTail: string[] = [];
  const onStderrLine = (line: string) => {
    onLine(line);
    stderrTail.push(line.slice(0, STDERR_LINE_LIMIT));
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  };
  if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on("line", onStderrLine);

  let stoppedBy: JobOutcome["stoppedBy"];
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      // The job's whole process group: a bootstrap's child jobs stop with it.
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  const stop = (reason: "user" | "max-runtime") => {
    if (stoppedBy || child.exitCode !== null) return;
    stoppedBy = reason;
    signalGroup("SIGTERM");
    killTimer = setTimeout(() => signalGroup("SIGKILL"), context.stopGraceSeconds * 1000);
  };
  const runtimeTimer =
    options.maxRuntimeSeconds === undefined
      ? undefined
      : setTimeout(() => stop("max-runtime"), options.maxRuntimeSeconds * 1000);
  const done = new Promise<JobOutcome>((resolve) => {
    child.on("error", (error) => onLine(`failed to start the job process: ${error.message}`));
    child.on("close", (exitCode, signal) => {
      if (group) context.reaper.release(group);
      clearTimeout(runtimeTimer);
      clearTimeout(killTimer);
      const message =
        options.messageFile && existsSync(options.messageFile)
          ? readFileSync(options.messageFile, "utf8").slice(0, MESSAGE_LIMIT).trim()
          : undefined;
      resolve({
        exitCode,
        signal,
        message: message || undefined,
        metrics,
        stderrTail,
        ...(stoppedBy ? { stoppedBy } : {}),
      });
    });
  });
  return { pid: child.pid, stop, done };
}

export function unpackTarGz(archive: string, folder: string): void {
  mkdirSync(folder, { recursive: true });
  const result = spawnSync("tar", ["-xzf", archive, "-C", folder], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`cannot unpack ${archive}: ${result.stderr.trim()}`);
}

/**
 * One file of a .tar.gz (`name` or `./name`) as text, without unpacking the rest; undefined if
 * absent or if the archive cannot be read (the job that unpacks it reports that in its own words).
 */
export function readTarMember(archive: string, name: string): string | undefined {
  const listing = spawnSync("tar", ["-tzf", archive], { encoding: "utf8" });
  if (listing.status !== 0) return undefined;
  const member = listing.stdout.split("\n").find((entry) => entry.replace(/^(\.\/)+/, "") === name);
  if (member === undefined) return undefined;
  const file = spawnSync("tar", ["-xzOf", archive, "--", member], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 ** 2,
  });
  if (file.status !== 0)
    throw new Error(`cannot read ${name} in ${archive}: ${file.stderr.trim()}`);
  return file.stdout;
}

export function packTarGz(folder: string, archive: string): void {
  mkdirSync(folder, { recursive: true });
  const result = spawnSync("tar", ["-czf", archive, "-C", folder, "."], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`cannot pack ${folder}: ${result.stderr.trim()}`);
}

/** Stages an S3 location (S3Prefix or ManifestFile) into a folder. */
export function stageS3Input(
  store: ObjectStore,
  uri: string,
  dataType: string,
  folder: string,
): void {
  mkdirSync(folder, { recursive: true });
  if (dataType !== "ManifestFile") {
    downloadPrefix(store, parseS3Uri(uri), folder);
    return;
  }
  const location = parseS3Uri(uri);
  const manifest: unknown = JSON.parse(store.read(location.bucket, location.key).toString("utf8"));
  if (!Array.isArray(manifest) || manifest.length === 0)
    throw new Error(`manifest ${uri} must be a JSON list starting with {"prefix": "s3://..."}`);
  const [head, ...entries] = manifest;
  const prefix =
    typeof head === "object" && head !== null && "prefix" in head && typeof head.prefix === "string"
      ? head.prefix
      : undefined;
  if (!prefix) throw new Error(`manifest ${uri} must start with {"prefix": "s3://..."}`);
  for (const entry of entries) {
    if (typeof entry !== "string") continue;
    const parts = entry.split("/");
    // The entry names an object; as a file path it must stay inside the channel's folder.
    if (parts.some((part) => part === "." || part === ".."))
      throw new Error(
        `manifest ${uri} lists ${entry}, whose . or .. segments would leave the channel's folder`,
      );
    const source = parseS3Uri(`${prefix.replace(/\/?$/, "/")}${entry}`);
    downloadObject(store, source, join(folder, ...parts.filter(Boolean)));
  }
}

export function uploadOutputs(store: ObjectStore, folder: string, uri: string): string[] {
  return uploadFolder(store, folder, parseS3Uri(uri));
}

export function freshFolder(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}

export function defaultJobSlots(): number {
  return Math.max(1, Math.floor(cpus().length / 2));
}

/** Kills a process group (a job or serving process left by an earlier local cloud). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    /* the process is gone already */
  }
}
