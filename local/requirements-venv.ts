// A job's requirements.txt, installed as the SageMaker toolkits install it at job start (the
// training toolkit for the source dir, bootstrap.py or the SDK's runproc.sh for processing), but
// once per (image, framework Python, requirements) instead of once per job: into a virtualenv
// cached under the state folder at `venvs/<key>/`, layered on the framework environment so its
// packages count as installed and stay importable. Built in a temporary folder and renamed
// into place when pip succeeds, so a failed or interrupted install leaves nothing behind and
// two jobs building the same key at once cannot mix their files (the first rename wins). Where
// the framework environment already has every pin (modeldrop's own source dir), `venvs/<key>.base`
// records it and the job runs on the framework Python with no pip run at all.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import type { JobCommand, JobOutcome, RunningJob } from "./sagemaker-runner.js";

const run = promisify(execFile);
const BOOTSTRAP = fileURLToPath(new URL("../ml/bootstrap.py", import.meta.url));
const RECORD = "modeldrop-venv.json";

export interface RequirementsRequest {
  /** `<state dir>/venvs`. */
  venvs: string;
  /** The framework environment's interpreter (the project's `.venv/bin/python`). */
  basePython: string;
  /** The job's image URI: on AWS each image has its own packages, so its own virtualenv. */
  image: string;
  /** requirements.txt as the job's code holds it. */
  text: string;
  /** The file pip reads, where a relative `-r`/`-c` line resolves; a copy of `text` if absent. */
  file?: string;
  /** pip's working directory and environment (the job's, with the network settings). */
  cwd: string;
  env: Record<string, string>;
}

export interface RequirementsPython {
  /** The interpreter the job runs with. */
  python: string;
  /** The virtualenv's `bin`, first on the job's PATH; absent when the framework has every pin. */
  bin?: string;
  /** MODELDROP_REQUIREMENTS_SHA256: bootstrap.py skips its own install when it matches. */
  sha256: string;
}

/** What the job's side provides: its log stream, and pip run as one of its processes. */
export interface RequirementsJob {
  log(line: string): void;
  /** Runs pip with its output on the job's log, stoppable as the job is. */
  run(command: JobCommand): RunningJob;
}

/** pip failed: the message names what did not install, taken from pip's own output. */
export class RequirementsNotInstalled extends Error {
  override readonly name = "RequirementsNotInstalled";
}

/** The job was stopped (or ran out of time) while pip ran. */
export class RequirementsInstallStopped extends Error {
  override readonly name = "RequirementsInstallStopped";

  constructor(readonly outcome: JobOutcome) {
    super(`the job was stopped while pip installed requirements.txt (${outcome.stoppedBy})`);
  }
}

interface BaseInterpreter {
  version: string;
  /** Its site-packages folders (purelib, platlib), which the virtualenv adds after its own. */
  sitePackages: string[];
}

const interpreters = new Map<string, Promise<BaseInterpreter>>();

/** The interpreter a job with this requirements.txt runs with, building its virtualenv if need be. */
export async function requirementsPython(
  request: RequirementsRequest,
  job: RequirementsJob,
): Promise<RequirementsPython> {
  const sha256 = createHash("sha256").update(request.text).digest("hex");
  const base = await baseInterpreter(request.basePython);
  const key = createHash("sha256")
    .update([request.image, request.basePython, base.version, request.text].join("\0"))
    .digest("hex");
  const name = `venvs/${key.slice(0, 12)}`;
  const folder = join(request.venvs, key);
  const inVenv = { python: join(folder, "bin", "python"), bin: join(folder, "bin"), sha256 };
  const onBase = { python: request.basePython, sha256 };
  if (existsSync(folder)) {
    job.log(`requirements.txt: reusing the cached virtualenv ${name} (built ${builtAt(folder)})`);
    return inVenv;
  }
  const baseRecord = `${folder}.base`;
  const packages = packagesStamp(base);
  const recorded = readJsonFile(baseRecord, {}) as { checked?: string; packages?: string };
  // Valid while nothing was installed into or removed from the framework environment since.
  if (recorded.packages === packages) {
    job.log(
      `requirements.txt: the framework environment has every pin (${name}.base, checked ${recorded.checked}); no virtualenv needed`,
    );
    return onBase;
  }

  mkdirSync(request.venvs, { recursive: true });
  removeAbandonedBuilds(request.venvs);
  const build = join(
    request.venvs,
    `.build-${key.slice(0, 12)}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  try {
    mkdirSync(build);
    const requirements = request.file ?? join(build, "requirements.txt");
    if (!request.file) writeFileSync(requirements, request.text);
    if (await baseHasEveryPin(request.basePython, requirements)) {
      writeJsonAtomic(baseRecord, { checked: now(), image: request.image, sha256, packages });
      job.log(
        `requirements.txt: the framework environment has every pin, recorded in ${name}.base; no virtualenv needed`,
      );
      return onBase;
    }
    job.log(
      `requirements.txt: building the virtualenv ${name} (pip install -r requirements.txt, layered on ${request.basePython})`,
    );
    const started = Date.now();
    const venv = join(build, "venv");
    await run(request.basePython, ["-m", "venv", "--without-pip", venv]);
    layerOnBase(venv, folder, base);
    const outcome = await job.run({
      argv: [
        join(venv, "bin", "python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-r",
        requirements,
      ],
      cwd: request.cwd,
      env: {
        ...request.env,
        PATH: [join(venv, "bin"), request.env.PATH].filter(Boolean).join(":"),
      },
    }).done;
    if (outcome.stoppedBy) throw new RequirementsInstallStopped(outcome);
    if (outcome.exitCode !== 0)
      throw new RequirementsNotInstalled(
        `requirements.txt did not install: ${pipError(outcome.stderrTail) ?? `pip exited with code ${outcome.exitCode ?? outcome.signal}`}`,
      );
    relocate(venv, folder);
    writeFileSync(
      join(venv, RECORD),
      `${JSON.stringify({ built: now(), image: request.image, python: request.basePython, pythonVersion: base.version, sha256 }, null, 1)}\n`,
    );
    writeFileSync(join(venv, "requirements.txt"), request.text);
    try {
      renameSync(venv, folder);
      job.log(`requirements.txt: built ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      if (!isCode(error, "ENOTEMPTY") && !isCode(error, "EEXIST")) throw error;
      job.log(`requirements.txt: another job built ${name} meanwhile; using that one`);
    }
    return inVenv;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** The version and site-packages of the framework Python, asked once per local cloud. */
function baseInterpreter(python: string): Promise<BaseInterpreter> {
  let known = interpreters.get(python);
  if (!known) {
    known = run(python, [
      "-I",
      "-c",
      "import sys, sysconfig; print(sys.version.split()[0]); print(sysconfig.get_path('purelib')); print(sysconfig.get_path('platlib'))",
    ]).then(({ stdout }) => {
      const [version = "", ...sitePackages] = stdout.trim().split("\n");
      return { version, sitePackages: [...new Set(sitePackages)] };
    });
    known.catch(() => interpreters.delete(python));
    interpreters.set(python, known);
  }
  return known;
}

/** When the framework's site-packages last changed (pip adds or removes entries there). */
function packagesStamp(base: BaseInterpreter): string {
  return base.sitePackages.map((folder) => statSync(folder).mtimeMs).join(",");
}

/** bootstrap.py's own check (every line an exact pin, installed at that version), run by the base Python. */
async function baseHasEveryPin(python: string, requirements: string): Promise<boolean> {
  const check =
    "import sys; from pathlib import Path; sys.path.insert(0, str(Path(sys.argv[1]).parent)); " +
    "from bootstrap import already_installed; sys.exit(0 if already_installed(Path(sys.argv[2])) else 1)";
  try {
    await run(python, ["-I", "-B", "-c", check, BOOTSTRAP, requirements]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the new virtualenv see the framework's packages after its own (a `.pth` that adds the
 * base site-packages as a site dir, so their own `.pth` files, editable installs among them,
 * apply too) and gives it a `pip` (the framework's, run by this interpreter).
 */
function layerOnBase(venv: string, folder: string, base: BaseInterpreter): void {
  const [major, minor] = base.version.split(".");
  const sitePackages = join(venv, "lib", `python${major}.${minor}`, "site-packages");
  mkdirSync(sitePackages, { recursive: true });
  writeFileSync(
    join(sitePackages, "modeldrop-framework.pth"),
    `${base.sitePackages.map((path) => `import site; site.addsitedir(${JSON.stringify(path)})`).join("\n")}\n`,
  );
  for (const name of ["pip", "pip3"]) {
    const wrapper = join(venv, "bin", name);
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec ${shellQuote(join(folder, "bin", "python"))} -m pip "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
  }
}

/** Points what pip wrote in `bin` (console scripts' `#!` lines) and pyvenv.cfg at the final folder. */
function relocate(venv: string, folder: string): void {
  const bin = join(venv, "bin");
  const files = [
    join(venv, "pyvenv.cfg"),
    ...readdirSync(bin)
      .map((entry) => join(bin, entry))
      .filter((path) => lstatSync(path).isFile()),
  ];
  for (const path of files) {
    const text = readFileSync(path, "latin1");
    if (text.includes(venv)) writeFileSync(path, text.replaceAll(venv, folder), "latin1");
  }
}

/** The build folders of local clouds that are gone (a crash mid-install). */
function removeAbandonedBuilds(venvs: string): void {
  for (const entry of readdirSync(venvs)) {
    const pid = Number(/^\.build-[0-9a-f]+-(\d+)-/.exec(entry)?.[1]);
    if (pid && pid !== process.pid && !alive(pid))
      rmSync(join(venvs, entry), { recursive: true, force: true });
  }
}

/** pip's reason: its last `ERROR:` line (e.g. `No matching distribution found for x==1`). */
function pipError(stderr: string[]): string | undefined {
  const errors = stderr.filter((line) => line.startsWith("ERROR: "));
  return errors.at(-1)?.slice("ERROR: ".length).trim();
}

function builtAt(folder: string): string {
  const record = readJsonFile(join(folder, RECORD), {}) as { built?: string };
  return record.built ?? "earlier";
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, "EPERM");
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
