// Pipeline drop benchmark: a CSV dropped into the inbox, end to end on the local cloud, against
// the floor — the same five ML jobs run directly as Python processes back to back.
//
//   npm run bench:drop                                      # 5,000 rows, a warm-up, 3 repeats
//   npx tsx bench/pipeline_drop.ts --rows 2000 --repeats 1   # quick smoke run
//
// End to end: from the PutObject of the drop until the Runs table reads a terminal status with
// the notice sent and the execution no longer running (the condition of the integration tests'
// `finished()`). Floor: preprocess → train (one pinned candidate) → select → evaluate → batch transform as
// `python -m modeldrop_ml.<job>` (the README's "Run the jobs by hand"), on the same file, with
// the options file and hyperparameters the run used, MODELDROP_OPT_ML in a scratch folder and
// the environment the local SageMaker gives its jobs. One local cloud from the packaged stack;
// one warm-up drop and one warm-up floor first, not counted (the first drop pays every Lambda
// function's cold start, both pay cold file caches); then each repeat runs both, alternating
// which goes first, so machine noise hits both. Medians are reported (and, as checks on noise,
// the median of each repeat's drop / its neighbouring floor and fastest / fastest), with where
// the difference goes: per state from the execution history, per job from the run record's step timings and
// each job process's spawn-to-exit time and CPU (a small shell wrapper around the job Python,
// used by both sides). Target: end to end / floor ≤ 1.15. Figures go to
// bench/results/pipeline_drop.{json,md}.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type HistoryEvent, SFNClient } from "@aws-sdk/client-sfn";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { runIdForDrop } from "../core/run-ids.js";
import type { Run } from "../core/run-record.js";
import type { LocalCloud } from "../local/cloud.js";
import { startPipelineCloud } from "../test/integration/pipeline-stack.js";
import { at, executionHistory } from "./execution-history.js";
import { median, round } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const PYTHON = resolve(ROOT, ".venv", "bin", "python");
const RESULTS = resolve(ROOT, "bench", "results");
const TARGET_RATIO = 1.15;
const POLL_MS = 20;
/** A drop with neither a run record nor an execution this long after the put has failed. */
const NO_RUN_MS = 60_000;
const DROP_KEY = "inbox/leads.csv";
/** The drop's options (as `x-amz-meta-modeldrop-options`); the floor reads back what the run used. */
// One pinned candidate, one trial: the bench measures orchestration, not the search.
const OPTIONS = {
  target: "converted",
  algorithm: "xgboost",
  preset: "fast",
  hyperparameters: { num_round: 100, max_depth: 6 },
};
const JOB_STEPS = ["preprocess", "train", "select", "evaluate", "transform"] as const;
type JobStep = (typeof JOB_STEPS)[number];
const JOB_STATE: Record<JobStep, string> = {
  preprocess: "Preprocess",
  train: "Train",
  select: "Select",
  evaluate: "Evaluate",
  transform: "Transform",
};
const TERMINAL = ["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A seeded binary-classification table: 4 numeric (one with gaps), 3 categorical, a yes/no target. */
function datasetCsv(rows: number, seed: number): string {
  let state = seed >>> 0 || 1;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const lines = ["age,income,visits,tenure_months,plan,region,channel,converted"];
  for (let i = 0; i < rows; i++) {
    const age = Math.round(18 + random() * 60);
    const income = Math.round(30_000 + 20_000 * normal() + 400 * age);
    const visits = Math.floor(-Math.log(1 - random()) * 6);
    const tenure = Math.round(random() * 1200) / 10;
    const plan = pick(["basic", "pro", "team", "enterprise"] as const);
    const region = pick(["north", "south", "east", "west", "central"] as const);
    const channel = pick(["web", "app", "store"] as const);
    const score =
      0.35 * visits -
      0.02 * tenure +
      (plan === "pro" ? 0.8 : plan === "enterprise" ? 1.4 : 0) +
      (channel === "app" ? 0.5 : 0) +
      (income - 50_000) / 40_000 +
      normal();
    const incomeText = random() < 0.03 ? "" : String(income);
    lines.push(
      `${age},${incomeText},${visits},${tenure},${plan},${region},${channel},${score > 1.2 ? "yes" : "no"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

interface TracedProcess {
  wall_s: number;
  /** User + system CPU of the process and the children it waited for (the shell's `times`). */
  cpu_s: number;
  args: string;
}

/**
 * The job Python, wrapped to log each process's spawn and exit times and CPU. Both sides run
 * their jobs through it (the local cloud as its `python`, the floor directly), so they are
 * measured alike; it costs a `sh` and two `date` processes per job.
 */
function tracedPython(scratch: string): { python: string; log: string } {
  const log = join(scratch, "job-processes.log");
  const python = join(scratch, "python");
  writeFileSync(
    python,
    [
      "#!/bin/sh",
      "start=$(date +%s%N)",
      `${JSON.stringify(PYTHON)} "$@"`,
      "code=$?",
      "end=$(date +%s%N)",
      // `times` in this shell (not a subshell, which would start from zero); line 2: children.
      `times > ${JSON.stringify(log)}.$$`,
      `{ read -r _; read -r cpu; } < ${JSON.stringify(log)}.$$`,
      `rm -f ${JSON.stringify(log)}.$$`,
      `echo "$start $end $code $cpu $*" >> ${JSON.stringify(log)}`,
      "exit $code",
      "",
    ].join("\n"),
  );
  chmodSync(python, 0o755);
  return { python, log };
}

const minutes = (text: string | undefined) => {
  const m = /^(\d+)m([\d.]+)s$/.exec(text ?? "");
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
};

function jobStep(args: string): JobStep | undefined {
  if (/--job preprocess|modeldrop_ml\.preprocess/.test(args)) return "preprocess";
  if (/--job evaluate|modeldrop_ml\.evaluate/.test(args)) return "evaluate";
  if (/--job select|modeldrop_ml\.select/.test(args)) return "select";
  if (args.includes("modeldrop_ml.batch_transform")) return "transform";
  if (/(^|\s)train\.py(\s|$)|modeldrop_ml\.train/.test(args)) return "train";
  return undefined;
}

/** The job processes logged since the log was last cleared (later runs of a step win). */
function tracedProcesses(log: string): Partial<Record<JobStep, TracedProcess>> {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return {};
  }
  const found: Partial<Record<JobStep, TracedProcess>> = {};
  for (const line of text.split("\n")) {
    const [start, end, , user, system, ...argv] = line.split(" ");
    const args = argv.join(" ");
    const step = jobStep(args);
    if (step)
      found[step] = {
        wall_s: (Number(end) - Number(start)) / 1e9,
        cpu_s: minutes(user) + minutes(system),
        args,
      };
  }
  return found;
}

/**
 * CPU seconds of this process (the local cloud: its services and Lambda threads) and of its
 * waited-for children (job processes and what they ran, tar), from /proc/self/stat.
 */
function cpuSeconds(): { self: number; children: number } {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    const [utime = 0, stime = 0, cutime = 0, cstime = 0] = f.slice(11, 15);
    return { self: (utime + stime) / CLOCK_TICKS, children: (cutime + cstime) / CLOCK_TICKS };
  } catch {
    return { self: Number.NaN, children: Number.NaN };
  }
}
const cpuSince = (before: { self: number; children: number }) => {
  const now = cpuSeconds();
  return { self: now.self - before.self, children: now.children - before.children };
};
const CLOCK_TICKS = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  return Number(result.stdout?.trim()) || 100;
})();

/**
 * The environment the local SageMaker gives its jobs (sagemaker.ts `baseEnv`), for the floor
 * too, with the code snapshot the pipeline runs (its sourcedir.tar.gz, unpacked) on PYTHONPATH.
 */
function jobEnvironment(optMl: string, code: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    MODELDROP_OPT_ML: optMl,
    SM_NUM_GPUS: "0",
    PYTHONUNBUFFERED: "1",
    PYTHONPATH: code,
  };
}

function runPython(python: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once("error", fail);
    child.once("close", (code) => {
      if (code === 0) done();
      else fail(new Error(`python ${args.join(" ")} exited with ${code}:\n${stderr}`));
    });
  });
}

interface FloorInputs {
  csv: string;
  optionsFile: string;
  /** The training job's command-line hyperparameters, as the local SageMaker passes them. */
  hyperparameterArgs: string[];
  selectArgs: string[];
}

interface JobProcess {
  wall_s: number;
  cpu_s: number;
}

interface FloorRun {
  total_s: number;
  cpu_s: number;
  jobs: Record<JobStep, JobProcess>;
}

interface Harness {
  cloud: LocalCloud;
  s3: S3Client;
  bucket: string;
  db: DynamoDBDocumentClient;
  sfn: SFNClient;
  python: string;
  processLog: string;
  scratch: string;
  /** The pipeline's sourcedir.tar.gz unpacked: the floor runs the same code snapshot. */
  code: string;
}

function jobProcesses(log: string): Record<JobStep, JobProcess> {
  const traced = tracedProcesses(log);
  const jobs = {} as Record<JobStep, JobProcess>;
  for (const step of JOB_STEPS)
    jobs[step] = {
      wall_s: traced[step]?.wall_s ?? Number.NaN,
      cpu_s: traced[step]?.cpu_s ?? Number.NaN,
    };
  return jobs;
}

/** The five jobs as plain processes, back to back (README: "Run the jobs by hand"). */
async function floor(h: Harness, inputs: FloorInputs): Promise<FloorRun> {
  rmSync(h.processLog, { force: true });
  const optMl = mkdtempSync(join(h.scratch, "opt-ml-"));
  const env = jobEnvironment(optMl, h.code);
  const processed = join(optMl, "processing", "output", "processed");
  const candidates = join(optMl, "candidates");
  const model = join(optMl, "processing", "output", "model");
  const job = (module: string, args: string[]) =>
    runPython(h.python, ["-m", `modeldrop_ml.${module}`, ...args], env);
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  await job("preprocess", [
    "--input",
    inputs.csv,
    "--output",
    processed,
    "--options-file",
    inputs.optionsFile,
  ]);
  await job("train", [
    "--train",
    join(processed, "train"),
    "--validation",
    join(processed, "validation"),
    "--model-dir",
    join(candidates, "train"),
    ...inputs.hyperparameterArgs,
  ]);
  await job("select", [...inputs.selectArgs, "--candidates", candidates, "--output", model]);
  await job("evaluate", [
    "--model",
    model,
    "--test",
    join(processed, "test"),
    "--output",
    join(optMl, "processing", "output", "evaluation"),
  ]);
  // The arguments the local SageMaker gives batch_transform for this pipeline's TransformJob.
  await job("batch_transform", [
    "--model",
    model,
    "--input",
    join(processed, "transform"),
    "--output",
    join(optMl, "predictions"),
    "--content-type",
    "text/csv",
    "--accept",
    "application/jsonlines",
    "--split-type",
    "Line",
    "--batch-strategy",
    "MultiRecord",
    "--max-payload-mb",
    "6",
  ]);
  const total = (performance.now() - started) / 1000;
  const cpu = cpuSince(cpuBefore);
  rmSync(optMl, { recursive: true, force: true });
  return { total_s: total, cpu_s: cpu.self + cpu.children, jobs: jobProcesses(h.processLog) };
}

interface StateSpan {
  name: string;
  seconds: number;
}

interface DropRun {
  runId: string;
  end_to_end_s: number;
  /** CPU of the whole drop: the local cloud process (Lambda threads included) and every job process. */
  cpu_s: number;
  /** The local cloud process alone (its services, Lambda threads, this benchmark's watching). */
  cloud_cpu_s: number;
  /** PutObject → ExecutionStarted: S3 event, EventBridge rule, on-upload, run put, StartExecution. */
  before_execution_s: number;
  /** ExecutionStarted → ExecutionSucceeded. */
  execution_s: number;
  /** ExecutionSucceeded → the poller saw the record terminal and noticed. */
  after_execution_s: number;
  states: StateSpan[];
  /** ExecutionStarted → the first state entered (the interpreter starting the execution). */
  execution_start_s: number;
  /** Time between one state's exit and the next state's entry, summed. */
  transitions_s: number;
  /** The last state's exit → ExecutionSucceeded. */
  execution_end_s: number;
  jobs: Record<JobStep, JobProcess & { state_s: number; job_s: number }>;
}

async function readRun(h: Harness, id: string): Promise<Run | undefined> {
  const found = await h.db.send(
    new GetCommand({ TableName: h.cloud.stack?.outputs.RunsTableName, Key: { id } }),
  );
  return found.Item as Run | undefined;
}

const stateName = (event: HistoryEvent) =>
  event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name ?? "";

/** The execution's status, read in process (free), or undefined before it exists. */
function executionStatus(h: Harness, executionArn: string | undefined): string | undefined {
  if (!executionArn) return undefined;
  try {
    return String(h.cloud.stepFunctions.describe(executionArn).status);
  } catch {
    return undefined;
  }
}

/**
 * Drops the CSV and waits as the integration tests' `finished()` does: terminal status, notice
 * sent, execution no longer running. The execution's status is watched in process every
 * POLL_MS (so the watching costs the jobs no CPU); the Runs table is read once it has left
 * RUNNING, and every second before that in case the run never gets an execution.
 */
async function pipelineDrop(h: Harness, body: string, timeoutMs = 600_000): Promise<DropRun> {
  rmSync(h.processLog, { force: true });
  const cpuBefore = cpuSeconds();
  const putAt = Date.now();
  const started = performance.now();
  const put = await h.s3.send(
    new PutObjectCommand({
      Bucket: h.bucket,
      Key: DROP_KEY,
      Body: body,
      ContentType: "text/csv",
      Metadata: { "modeldrop-options": JSON.stringify(OPTIONS) },
    }),
  );
  const runId = runIdForDrop(h.bucket, DROP_KEY, put.VersionId ?? "null");
  const pipelineArn = h.cloud.stack?.outputs.PipelineArn;
  let executionArn = pipelineArn
    ? `${pipelineArn.replace(":stateMachine:", ":execution:")}:${runId}`
    : undefined;
  const deadline = Date.now() + timeoutMs;
  let run: Run | undefined;
  let lastRead = 0;
  let endedAt: number;
  let cpu: { self: number; children: number };
  let endToEnd: number;
  for (;;) {
    const status = executionStatus(h, executionArn);
    if ((status && status !== "RUNNING") || Date.now() - lastRead >= 1000) {
      lastRead = Date.now();
      run = await readRun(h, runId);
      executionArn ??= run?.executionArn;
      if (
        run?.noticeSentAt &&
        TERMINAL.includes(run.status) &&
        (!run.executionArn || executionStatus(h, run.executionArn) !== "RUNNING")
      ) {
        endToEnd = (performance.now() - started) / 1000;
        endedAt = Date.now();
        cpu = cpuSince(cpuBefore);
        break;
      }
    }
    if (Date.now() > deadline) throw new Error(`run ${runId} did not end: ${JSON.stringify(run)}`);
    if (!run && !status && performance.now() - started > NO_RUN_MS)
      throw new Error(
        `no run ${runId} ${NO_RUN_MS / 1000} s after the drop (see the on-upload log)`,
      );
    await sleep(POLL_MS);
  }
  await h.cloud.events.settle();
  run = (await readRun(h, runId)) ?? run;
  if (run.status !== "SUCCEEDED" || !run.executionArn)
    throw new Error(`run ${runId} ended ${run.status}: ${JSON.stringify(run.failure ?? run)}`);

  const events = await executionHistory(h.sfn, run.executionArn);
  const startedEvent = events.find((e) => e.type === "ExecutionStarted");
  const endedEvent = events.find((e) => e.type === "ExecutionSucceeded");
  const states: StateSpan[] = [];
  let transitions = 0;
  let firstEntry: number | undefined;
  let lastExit: number | undefined;
  const entered = new Map<string, number>();
  for (const event of events) {
    if (event.type?.endsWith("StateEntered")) {
      entered.set(stateName(event), at(event));
      firstEntry ??= at(event);
      if (lastExit !== undefined) transitions += at(event) - lastExit;
    } else if (event.type?.endsWith("StateExited")) {
      const name = stateName(event);
      states.push({ name, seconds: (at(event) - (entered.get(name) ?? at(event))) / 1000 });
      lastExit = at(event);
    }
  }
  const processes = jobProcesses(h.processLog);
  const jobs = {} as DropRun["jobs"];
  for (const step of JOB_STEPS) {
    const timing = run.steps?.[step];
    jobs[step] = {
      ...processes[step],
      state_s: states.find((s) => s.name === JOB_STATE[step])?.seconds ?? Number.NaN,
      job_s:
        timing?.endedAt && timing.startedAt
          ? (Date.parse(timing.endedAt) - Date.parse(timing.startedAt)) / 1000
          : Number.NaN,
    };
  }
  return {
    runId,
    end_to_end_s: endToEnd,
    cpu_s: cpu.self + cpu.children,
    cloud_cpu_s: cpu.self,
    before_execution_s: (at(startedEvent) - putAt) / 1000,
    execution_s: (at(endedEvent) - at(startedEvent)) / 1000,
    after_execution_s: (endedAt - at(endedEvent)) / 1000,
    states,
    execution_start_s: ((firstEntry ?? Number.NaN) - at(startedEvent)) / 1000,
    transitions_s: transitions / 1000,
    execution_end_s: (at(endedEvent) - (lastExit ?? Number.NaN)) / 1000,
    jobs,
  };
}

/** The options file and training arguments exactly as the run gave them to its jobs. */
async function floorInputs(h: Harness, run: DropRun, csv: string): Promise<FloorInputs> {
  const record = await readRun(h, run.runId);
  if (!record?.executionArn) throw new Error(`run ${run.runId} has no execution`);
  const options = await h.s3.send(
    new GetObjectCommand({ Bucket: h.bucket, Key: `runs/${run.runId}/options/options.json` }),
  );
  const optionsFile = join(h.scratch, "options.json");
  writeFileSync(optionsFile, (await options.Body?.transformToString()) ?? "{}");
  const input = JSON.parse(String(h.cloud.stepFunctions.describe(record.executionArn).input)) as {
    training: { candidates: { hyperParameters: Record<string, string> }[] };
    selection: { app: { ContainerEntrypoint: string[] } };
  };
  const hyperparameterArgs = Object.entries(input.training.candidates[0]?.hyperParameters ?? {})
    .filter(([name]) => !name.startsWith("sagemaker_"))
    .flatMap(([name, value]) => [`--${name}`, value]);
  // what the select job's entrypoint passes after `--job select` (the preset)
  const entrypoint = input.selection.app.ContainerEntrypoint;
  const selectArgs = entrypoint.slice(entrypoint.indexOf("select") + 1);
  return { csv, optionsFile, hyperparameterArgs, selectArgs };
}

type Started = Awaited<ReturnType<typeof startPipelineCloud>>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: "5000" },
      repeats: { type: "string", default: "3" },
      seed: { type: "string", default: "7" },
    },
  });
  const rows = Number(values.rows);
  const repeats = Number(values.repeats);
  const seed = Number(values.seed);
  const scratch = mkdtempSync(join(tmpdir(), "modeldrop-bench-drop-"));
  const traced = tracedPython(scratch);
  const body = datasetCsv(rows, seed);
  const csv = join(mkdtempSync(join(scratch, "data-")), "leads.csv");
  writeFileSync(csv, body);
  let started: Started | undefined;
  try {
    started = await startPipelineCloud({ python: traced.python });
    const code = join(scratch, "code");
    mkdirSync(code);
    execFileSync("tar", ["-xzf", started.code.archive, "-C", code]);
    const h: Harness = {
      cloud: started.cloud,
      s3: started.s3,
      bucket: started.bucket,
      db: DynamoDBDocumentClient.from(new DynamoDBClient(started.config)),
      sfn: new SFNClient(started.config),
      python: traced.python,
      processLog: traced.log,
      scratch,
      code,
    };
    console.error("warm-up drop …");
    const warmDrop = await pipelineDrop(h, body);
    const inputs = await floorInputs(h, warmDrop, csv);
    console.error("warm-up floor …");
    const warmFloor = await floor(h, inputs);

    const drops: DropRun[] = [];
    const floors: FloorRun[] = [];
    for (let i = 0; i < repeats; i++) {
      for (const which of i % 2 === 0 ? ["floor", "drop"] : ["drop", "floor"]) {
        let seconds: number;
        if (which === "floor") {
          const f = await floor(h, inputs);
          floors.push(f);
          seconds = f.total_s;
        } else {
          const d = await pipelineDrop(h, body);
          drops.push(d);
          seconds = d.end_to_end_s;
        }
        console.error(`repeat ${i + 1}/${repeats}: ${which} ${seconds.toFixed(2)} s`);
      }
    }
    const args = process.argv.slice(2);
    report({
      command: args.length > 0 ? `npm run bench:drop -- ${args.join(" ")}` : "npm run bench:drop",
      rows,
      repeats,
      seed,
      bytes: Buffer.byteLength(body),
      drops,
      floors,
      warmDrop,
      warmFloor,
    });
  } finally {
    await started?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface JobFigures {
  floor_process_s: number;
  process_s: number;
  sagemaker_job_s: number;
  state_s: number;
  overhead_s: number;
  floor_cpu_s: number;
  process_cpu_s: number;
}

function report(r: {
  command: string;
  rows: number;
  repeats: number;
  seed: number;
  bytes: number;
  drops: DropRun[];
  floors: FloorRun[];
  warmDrop: DropRun;
  warmFloor: FloorRun;
}): void {
  const { drops, floors } = r;
  const endToEnd = median(drops.map((d) => d.end_to_end_s));
  const floorTotal = median(floors.map((f) => f.total_s));
  const ratio = endToEnd / floorTotal;
  const dropCpu = median(drops.map((d) => d.cpu_s));
  const floorCpu = median(floors.map((f) => f.cpu_s));
  const m = (pick: (d: DropRun) => number) => round(median(drops.map(pick)));
  const mf = (pick: (f: FloorRun) => number) => round(median(floors.map(pick)));
  const jobs = {} as Record<JobStep, JobFigures>;
  for (const step of JOB_STEPS) {
    const floorS = mf((f) => f.jobs[step].wall_s);
    const state = m((d) => d.jobs[step].state_s);
    jobs[step] = {
      floor_process_s: floorS,
      process_s: m((d) => d.jobs[step].wall_s),
      sagemaker_job_s: m((d) => d.jobs[step].job_s),
      state_s: state,
      overhead_s: round(state - floorS),
      floor_cpu_s: mf((f) => f.jobs[step].cpu_s),
      process_cpu_s: m((d) => d.jobs[step].cpu_s),
    };
  }
  const jobStates = new Set(Object.values(JOB_STATE));
  const otherStates = new Map<string, number[]>();
  for (const d of drops)
    for (const s of d.states)
      if (!jobStates.has(s.name))
        otherStates.set(s.name, [...(otherStates.get(s.name) ?? []), s.seconds]);
  const nonJobStates = Object.fromEntries(
    [...otherStates].map(([name, values]) => [name, round(median(values))]),
  );
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, node ${process.version}`,
    dataset: {
      rows: r.rows,
      bytes: r.bytes,
      seed: r.seed,
      columns: "4 numeric (income 3% missing), 3 categorical, a yes/no target",
      options: OPTIONS,
    },
    repeats: r.repeats,
    warm_up: {
      counted: false,
      drop_end_to_end_s: round(r.warmDrop.end_to_end_s),
      floor_s: round(r.warmFloor.total_s),
    },
    end_to_end_s: round(endToEnd),
    floor_s: round(floorTotal),
    ratio: round(ratio),
    cpu: {
      local_cloud_process_s: round(median(drops.map((d) => d.cloud_cpu_s))),
      drop_s: round(dropCpu),
      floor_s: round(floorCpu),
      ratio: round(dropCpu / floorCpu),
    },
    all_runs: {
      end_to_end_s: drops.map((d) => round(d.end_to_end_s)),
      floor_s: floors.map((f) => round(f.total_s)),
      drop_cpu_s: drops.map((d) => round(d.cpu_s)),
      local_cloud_cpu_s: drops.map((d) => round(d.cloud_cpu_s)),
      floor_cpu_s: floors.map((f) => round(f.cpu_s)),
      drop_job_process_s: drops.map((d) =>
        Object.fromEntries(JOB_STEPS.map((step) => [step, round(d.jobs[step].wall_s)])),
      ),
      floor_job_process_s: floors.map((f) =>
        Object.fromEntries(JOB_STEPS.map((step) => [step, round(f.jobs[step].wall_s)])),
      ),
    },
    /** Each repeat's drop / the floor run next to it in time (they share its machine load), median. */
    paired_ratio: round(
      median(drops.map((d, i) => d.end_to_end_s / (floors[i]?.total_s ?? Number.NaN))),
    ),
    /** Fastest drop / fastest floor: less exposed to bursts of load from other work on the machine. */
    best_ratio: round(
      Math.min(...drops.map((d) => d.end_to_end_s)) / Math.min(...floors.map((f) => f.total_s)),
    ),
    overhead: {
      total_s: round(endToEnd - floorTotal),
      before_execution_s: m((d) => d.before_execution_s),
      execution_s: m((d) => d.execution_s),
      after_execution_s: m((d) => d.after_execution_s),
      jobs,
      non_job_states_s: m((d) =>
        d.states.filter((s) => !jobStates.has(s.name)).reduce((sum, s) => sum + s.seconds, 0),
      ),
      non_job_states: nonJobStates,
      execution_start_s: m((d) => d.execution_start_s),
      state_transitions_s: m((d) => d.transitions_s),
      execution_end_s: m((d) => d.execution_end_s),
    },
    targets: { ratio: { target: TARGET_RATIO, met: ratio <= TARGET_RATIO } },
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, "pipeline_drop.json"), `${JSON.stringify(result, null, 2)}\n`);
  const o = result.overhead;
  const sum = (pick: (j: JobFigures) => number) =>
    round(JOB_STEPS.reduce((total, step) => total + pick(jobs[step]), 0));
  const lines = [
    "# Pipeline drop benchmark",
    "",
    `Recorded ${result.date} on ${result.machine} by \`${r.command}\`: a ${r.rows.toLocaleString("en")}-row CSV`,
    `(${(r.bytes / 1024).toFixed(0)} KiB, seed ${r.seed}) dropped into the inbox with options \`${JSON.stringify(OPTIONS)}\`;`,
    `medians of ${r.repeats} repeats, floor and drop alternating, after one warm-up of each (not counted: drop ${result.warm_up.drop_end_to_end_s} s, floor ${result.warm_up.floor_s} s).`,
    "",
    "| figure | value | target |",
    "|---|---|---|",
    `| end to end: PutObject → run record terminal with its notice sent | ${result.end_to_end_s} s | |`,
    `| floor: the four jobs as plain processes, back to back | ${result.floor_s} s | |`,
    `| **end to end / floor** | **${result.ratio}** | ≤ ${TARGET_RATIO}: ${result.targets.ratio.met ? "met" : "MISSED"} |`,
    `| each repeat's drop / its neighbouring floor, median (shares the machine's load) | ${result.paired_ratio} | |`,
    `| fastest drop / fastest floor (less exposed to bursts of other load) | ${result.best_ratio} | |`,
    `| CPU: the drop (local cloud process + job processes) / the floor | ${result.cpu.drop_s} s / ${result.cpu.floor_s} s = ${result.cpu.ratio} | |`,
    `| CPU of the local cloud process itself during a drop (services, Lambda threads) | ${result.cpu.local_cloud_process_s} s | |`,
    "",
    "Where the time goes, per job (medians; each column a median of its own):",
    "",
    "| job | floor process s | job process in the local cloud s | SageMaker job (run record) s | state in the execution s | state − floor s | floor CPU s | local cloud process CPU s |",
    "|---|---|---|---|---|---|---|---|",
    ...JOB_STEPS.map((step) => {
      const j = jobs[step];
      return `| ${step} | ${j.floor_process_s} | ${j.process_s} | ${j.sagemaker_job_s} | ${j.state_s} | ${j.overhead_s} | ${j.floor_cpu_s} | ${j.process_cpu_s} |`;
    }),
    `| the four jobs | ${sum((j) => j.floor_process_s)} | ${sum((j) => j.process_s)} | ${sum((j) => j.sagemaker_job_s)} | ${sum((j) => j.state_s)} | ${sum((j) => j.overhead_s)} | ${sum((j) => j.floor_cpu_s)} | ${sum((j) => j.process_cpu_s)} |`,
    "",
    "Outside the jobs:",
    "",
    "| span | s |",
    "|---|---|",
    `| PutObject → ExecutionStarted (S3 event, EventBridge rule, on-upload, StartExecution) | ${o.before_execution_s} |`,
    `| ${Object.keys(o.non_job_states).length} non-job states (Lambda tasks, CreateModel, Choice, Succeed) | ${o.non_job_states_s} |`,
    ...Object.entries(o.non_job_states).map(([name, s]) => `| &nbsp;&nbsp;${name} | ${s} |`),
    `| ExecutionStarted → first state entered (the interpreter starting the execution) | ${o.execution_start_s} |`,
    `| between states (interpreter transitions) | ${o.state_transitions_s} |`,
    `| last state exited → ExecutionSucceeded | ${o.execution_end_s} |`,
    `| ExecutionSucceeded → record read terminal and noticed (watched every ${POLL_MS} ms) | ${o.after_execution_s} |`,
    `| **end to end − floor** | **${o.total_s}** |`,
    "",
  ];
  const table = lines.join("\n");
  writeFileSync(join(RESULTS, "pipeline_drop.md"), table);
  console.log(table);
}

await main();
