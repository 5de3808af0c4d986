// Local cloud benchmark: start-up time, and what orchestration adds on top of the work itself.
//
//   npm run bench:local                 # 5 jobs, 60 non-job states, 3 start-ups of each kind
//   npx tsx bench/local_cloud.ts --jobs 3 --states 20 --starts 1   # quick smoke run
//
// Per job: a `.sync` training task whose script exits at once; its time in the execution
// (TaskScheduled → TaskSucceeded, from the history's own timestamps) minus the median wall time
// of the same Python script run bare. Per non-job state: a chain of Pass and Choice states,
// execution time divided by the number of states. The jobs run twice: in their own mount
// namespace (the default) and without one (MODELDROP_NO_NAMESPACE=1), to show what the namespace
// costs. Then the same job with a requirements.txt in its source dir, each in a fresh state
// folder: naming a small package .venv lacks (the first job builds the cached virtualenv, the
// install time read from the job's log; the rest reuse it), and naming only pins .venv has
// (the `.base` path: no virtualenv, no pip). Targets: under 1 s per job, 0.3 s for a
// script-mode job on a cached virtualenv (issue 14), under 50 ms per non-job state. Figures go
// to bench/results/local_cloud.{json,md}.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { LogEvent } from "../app/ports.js";
import { JobLogs } from "../aws/job-logs.js";
import { type LocalCloud, startLocalCloud } from "../local/cloud.js";
import { packageFixtureStack } from "../test/integration/fixture-stack.js";
import { at, executionHistory } from "./execution-history.js";
import { median, round } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const PYTHON = resolve(ROOT, ".venv", "bin", "python");
const RESULTS = resolve(ROOT, "bench", "results");
const TARGET_JOB_S = 1;
const TARGET_STATE_MS = 50;
/** Issue 14's target for a user's script-mode job over the same script run bare. */
const TARGET_SCRIPT_MODE_S = 0.3;
/** Small, pure Python, and not in .venv: the requirements.txt that makes a virtualenv. */
const VENV_PACKAGE = { name: "tomli-w", version: "1.2.0" };
/** Pins .venv has by construction (requirements-local.txt includes them): the `.base` path. */
const BASE_REQUIREMENTS = resolve(ROOT, "ml", "requirements-cloud.txt");
const TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs";
const BUCKET = "bench";
const ROLE = "arn:aws:iam::000000000000:role/bench";
const TRAIN_PY = "import sys\nsys.exit(0)\n";

function clientConfig(cloud: LocalCloud) {
  return {
    endpoint: cloud.endpoint,
    region: cloud.region,
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  };
}

async function inProcessStart(stackDir: string, stateDir: string): Promise<number> {
  const started = performance.now();
  const cloud = await startLocalCloud({
    stateDir,
    stack: {
      dir: stackDir,
      stackName: "fixture",
      parameters: { EventsFile: join(stateDir, "events.jsonl") },
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await cloud.stop();
  return seconds;
}

/** `modeldrop up` as a user starts it: process start until it prints its endpoint. */
async function commandStart(stackDir: string, stateDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      resolve(ROOT, "bin", "modeldrop.mjs"),
      "up",
      "--port",
      "0",
      "--api-port",
      "0",
      "--state-dir",
      stateDir,
      "--inbox",
      join(stateDir, "inbox"),
      "--stack",
      stackDir,
      "--param",
      `EventsFile=${join(stateDir, "events.jsonl")}`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const seconds = await new Promise<number>((done, fail) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("local cloud: http://")) done((performance.now() - started) / 1000);
    });
    child.once("exit", (code) => fail(new Error(`modeldrop up exited with ${code}: ${output}`)));
  });
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGINT");
  await exited;
  return seconds;
}

function bareProcessSeconds(script: string, runs: number, python = PYTHON): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(python, [script]);
    if (result.status !== 0) throw new Error(`${script} failed: ${result.stderr}`);
    times.push((performance.now() - started) / 1000);
  }
  return median(times);
}

function jobsDefinition(jobs: number): string {
  const states: Record<string, unknown> = {};
  for (let i = 0; i < jobs; i++) {
    states[`Job${i}`] = {
      Type: "Task",
      Resource: "arn:aws:states:::sagemaker:createTrainingJob.sync",
      Parameters: {
        "TrainingJobName.$": `States.Format('{}-${i}', $$.Execution.Name)`,
        RoleArn: ROLE,
        AlgorithmSpecification: {
          TrainingImage:
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",
          TrainingInputMode: "File",
        },
        HyperParameters: {
          sagemaker_program: "train.py",
          sagemaker_submit_directory: `s3://${BUCKET}/code/sourcedir.tar.gz`,
        },
        InputDataConfig: [
          {
            ChannelName: "train",
            DataSource: { S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${BUCKET}/data/` } },
          },
        ],
        OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/jobs` },
        ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      },
      ResultPath: null,
      ...(i === jobs - 1 ? { End: true } : { Next: `Job${i + 1}` }),
    };
  }
  return JSON.stringify({ StartAt: "Job0", States: states });
}

function statesDefinition(count: number): string {
  const states: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const next = i === count - 1 ? { End: true } : { Next: `S${i + 1}` };
    states[`S${i}`] =
      i % 3 === 2
        ? {
            Type: "Choice",
            Choices: [
              {
                Variable: "$.n",
                NumericGreaterThanEquals: 0,
                Next: i === count - 1 ? "Done" : `S${i + 1}`,
              },
            ],
            Default: "Done",
          }
        : { Type: "Pass", Parameters: { "n.$": "$.n", [`s${i}`]: i }, ...next };
  }
  states.Done = { Type: "Succeed" };
  return JSON.stringify({ StartAt: "S0", States: states });
}

async function runExecution(
  sfn: SFNClient,
  machine: string,
  name: string,
): Promise<HistoryEvent[]> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: machine, name, input: JSON.stringify({ n: 1 }) }),
  );
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status === "SUCCEEDED") break;
    if (execution.status !== "RUNNING")
      throw new Error(`${name} ended ${execution.status}: ${execution.error} ${execution.cause}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return executionHistory(sfn, executionArn ?? "");
}

interface Measured {
  /** Each job's TaskScheduled → TaskSucceeded, in order. */
  perJob: number[];
  perStateMs: number;
  /** Each job's `requirements.txt:` lines from its log, in order. */
  requirementLogs: LogEvent[][];
}

/**
 * Per-job times of `jobs` training tasks running the code in `archive`, and per-state time of
 * `states` Pass/Choice states.
 */
async function measure(
  stateDir: string,
  jobs: number,
  stateCount: number,
  archive: string,
): Promise<Measured> {
  const cloud = await startLocalCloud({ stateDir });
  try {
    const config = clientConfig(cloud);
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "code/sourcedir.tar.gz",
        Body: readFileSync(archive),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "data/rows.csv", Body: "a\n1\n" }));
    const sfn = new SFNClient(config);
    const create = async (name: string, definition: string) =>
      (await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: ROLE })))
        .stateMachineArn ?? "";

    const jobHistory = await runExecution(
      sfn,
      await create("bench-jobs", jobsDefinition(jobs)),
      "jobs",
    );
    const scheduled = jobHistory.filter((e) => e.type === "TaskScheduled");
    const succeeded = jobHistory.filter((e) => e.type === "TaskSucceeded");
    const perJob = scheduled.map((e, i) => (at(succeeded[i]) - at(e)) / 1000);
    const logs = new JobLogs(new CloudWatchLogsClient(config));
    const requirementLogs: LogEvent[][] = [];
    for (let i = 0; i < jobs; i++) {
      const stream = await logs.stream(TRAINING_LOG_GROUP, `jobs-${i}`);
      const page = stream ? await logs.read(TRAINING_LOG_GROUP, stream, 10000, "head") : undefined;
      requirementLogs.push(
        (page?.events ?? []).filter((e) => e.message.startsWith("requirements.txt: ")),
      );
    }
    if (stateCount === 0) return { perJob, perStateMs: 0, requirementLogs };

    const stateHistory = await runExecution(
      sfn,
      await create("bench-states", statesDefinition(stateCount)),
      "states",
    );
    const entered = stateHistory.filter((e) => e.type?.endsWith("StateEntered")).length;
    const span = at(stateHistory.at(-1)) - at(stateHistory[0]);
    return { perJob, perStateMs: span / entered, requirementLogs };
  } finally {
    await cloud.stop();
  }
}

/** A source dir of train.py and, when given, a requirements.txt, as `sourcedir.tar.gz`. */
function sourceArchive(folder: string, requirements?: string): string {
  const code = join(folder, "code");
  mkdirSync(code, { recursive: true });
  writeFileSync(join(code, "train.py"), TRAIN_PY);
  const files = ["train.py"];
  if (requirements !== undefined) {
    writeFileSync(join(code, "requirements.txt"), requirements);
    files.push("requirements.txt");
  }
  const archive = join(folder, "sourcedir.tar.gz");
  execFileSync("tar", ["-czf", archive, "-C", code, ...files]);
  return archive;
}

/** The first log line of `job` that matches: a variant must take the path it claims to measure. */
function logLine(measured: Measured, job: number, pattern: RegExp): LogEvent {
  const line = measured.requirementLogs[job]?.find((e) => pattern.test(e.message));
  if (!line)
    throw new Error(
      `job ${job} did not log ${pattern}; its requirements.txt lines: ${JSON.stringify(measured.requirementLogs[job]?.map((e) => e.message))}`,
    );
  return line;
}

/** The cached virtualenv's interpreter under a state folder (its one `venvs/<key>` folder). */
function cachedVenvPython(stateDir: string): string {
  const venvs = join(stateDir, "venvs");
  const built = readdirSync(venvs).filter((e) => !e.startsWith(".") && !e.endsWith(".base"));
  if (built.length !== 1) throw new Error(`expected one virtualenv in ${venvs}, found ${built}`);
  return join(venvs, built[0] ?? "", "bin", "python");
}

/** Whether .venv has the distribution `name` at any version. */
function installedInVenv(name: string): boolean {
  const check = "import sys, importlib.metadata as m; m.version(sys.argv[1])";
  return spawnSync(PYTHON, ["-c", check, name]).status === 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: "string", default: "5" },
      states: { type: "string", default: "60" },
      starts: { type: "string", default: "3" },
    },
  });
  const jobs = Number(values.jobs);
  const stateCount = Number(values.states);
  const starts = Number(values.starts);
  const scratch = mkdtempSync(join(tmpdir(), "modeldrop-bench-cloud-"));
  try {
    const stack = packageFixtureStack();
    const startup = {
      in_process_cold_s: [] as number[],
      in_process_warm_s: [] as number[],
      modeldrop_up_s: [] as number[],
    };
    for (let i = 0; i < starts; i++) {
      const stateDir = join(scratch, `start-${i}`);
      startup.in_process_cold_s.push(await inProcessStart(stack.dir, stateDir));
      startup.in_process_warm_s.push(await inProcessStart(stack.dir, stateDir));
      startup.modeldrop_up_s.push(await commandStart(stack.dir, join(scratch, `up-${i}`)));
    }

    if (installedInVenv(VENV_PACKAGE.name))
      throw new Error(
        `${VENV_PACKAGE.name} is installed in .venv, so its requirements.txt would not build a virtualenv; pick a package .venv lacks`,
      );
    const venvPin = `${VENV_PACKAGE.name}==${VENV_PACKAGE.version}`;
    const baseText = readFileSync(BASE_REQUIREMENTS, "utf8");
    const basePins = baseText.split("\n").filter((line) => /^[^#\s]/.test(line)).length;
    const plainArchive = sourceArchive(join(scratch, "plain-code"));
    const venvArchive = sourceArchive(join(scratch, "venv-code"), `${venvPin}\n`);
    const baseArchive = sourceArchive(join(scratch, "base-code"), baseText);
    const script = join(scratch, "plain-code", "code", "train.py");
    const bareJobS = bareProcessSeconds(script, 7);

    const withNamespace = await measure(join(scratch, "pipeline"), jobs, stateCount, plainArchive);
    // The same jobs with the per-job mount namespace off (the fallback), to show what it costs.
    process.env.MODELDROP_NO_NAMESPACE = "1";
    const withoutNamespace = await measure(join(scratch, "plain"), jobs, 0, plainArchive);
    delete process.env.MODELDROP_NO_NAMESPACE;

    // requirements.txt, each in a fresh state folder so the first job finds no cache: one
    // job that builds (or checks), then `jobs` that reuse what it left.
    const venvDir = join(scratch, "venv");
    const venv = await measure(venvDir, jobs + 1, 0, venvArchive);
    const building = logLine(venv, 0, /building the virtualenv/);
    const built = logLine(venv, 0, /: built venvs\//);
    for (let i = 1; i <= jobs; i++) logLine(venv, i, /reusing the cached virtualenv/);
    const installS = (built.timestamp - building.timestamp) / 1000;
    const bareOnVenvS = bareProcessSeconds(script, 7, cachedVenvPython(venvDir));
    const base = await measure(join(scratch, "base"), jobs + 1, 0, baseArchive);
    logLine(base, 0, /every pin, recorded in venvs\/\w+\.base/);
    for (let i = 1; i <= jobs; i++) logLine(base, i, /every pin \(venvs\/\w+\.base, checked/);
    const venvCachedS = median(venv.perJob.slice(1));
    const venvCachedOverheadS = venvCachedS - bareJobS;
    const baseCachedS = median(base.perJob.slice(1));
    const perJob = withNamespace.perJob;
    const perStateMs = withNamespace.perStateMs;
    const namespaceS = median(perJob) - median(withoutNamespace.perJob);

    const jobInExecutionS = median(perJob);
    const overheadPerJobS = jobInExecutionS - bareJobS;
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, node ${process.version}`,
      startup_s: Object.fromEntries(Object.entries(startup).map(([k, v]) => [k, round(median(v))])),
      jobs,
      bare_job_process_s: round(bareJobS),
      job_in_execution_s: round(jobInExecutionS),
      jobs_s: perJob.map((s) => round(s)),
      overhead_per_job_s: round(overheadPerJobS),
      job_without_namespace_s: round(median(withoutNamespace.perJob)),
      jobs_without_namespace_s: withoutNamespace.perJob.map((s) => round(s)),
      namespace_per_job_s: round(namespaceS),
      non_job_states: stateCount + 1,
      overhead_per_state_ms: round(perStateMs, 2),
      requirements_venv: {
        requirements: venvPin,
        first_job_s: round(venv.perJob[0] ?? Number.NaN),
        first_job_overhead_s: round((venv.perJob[0] ?? Number.NaN) - bareJobS),
        install_s: round(installS),
        cached_jobs: jobs,
        cached_job_s: round(venvCachedS),
        cached_overhead_s: round(venvCachedOverheadS),
        bare_on_venv_python_s: round(bareOnVenvS),
        jobs_s: venv.perJob.map((s) => round(s)),
      },
      requirements_on_base: {
        pins: basePins,
        first_job_s: round(base.perJob[0] ?? Number.NaN),
        first_job_overhead_s: round((base.perJob[0] ?? Number.NaN) - bareJobS),
        cached_jobs: jobs,
        cached_job_s: round(baseCachedS),
        cached_overhead_s: round(baseCachedS - bareJobS),
        jobs_s: base.perJob.map((s) => round(s)),
      },
      targets: {
        overhead_per_job_s: { target: TARGET_JOB_S, met: overheadPerJobS < TARGET_JOB_S },
        script_mode_overhead_s: {
          target: TARGET_SCRIPT_MODE_S,
          met: overheadPerJobS <= TARGET_SCRIPT_MODE_S,
        },
        cached_venv_overhead_s: {
          target: TARGET_SCRIPT_MODE_S,
          met: venvCachedOverheadS <= TARGET_SCRIPT_MODE_S,
        },
        overhead_per_state_ms: { target: TARGET_STATE_MS, met: perStateMs < TARGET_STATE_MS },
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "local_cloud.json"), `${JSON.stringify(result, null, 2)}\n`);
    const mark = (met: boolean) => (met ? "met" : "MISSED");
    const rv = result.requirements_venv;
    const rb = result.requirements_on_base;
    const table = [
      "# Local cloud benchmark",
      "",
      `Recorded ${result.date} on ${result.machine} by \`npm run bench:local\`.`,
      "",
      "| figure | value | target |",
      "|---|---|---|",
      `| start-up, in process, fresh state | ${result.startup_s.in_process_cold_s} s | |`,
      `| start-up, in process, existing state | ${result.startup_s.in_process_warm_s} s | |`,
      `| start-up, \`modeldrop up\` until it prints its endpoint | ${result.startup_s.modeldrop_up_s} s | |`,
      `| a job's script run bare (median of 7) | ${result.bare_job_process_s} s | |`,
      `| a job inside the execution (median of ${jobs}) | ${result.job_in_execution_s} s | |`,
      `| orchestration overhead per job (namespace, environment, staging, .sync polling) | ${result.overhead_per_job_s} s | < ${TARGET_JOB_S} s: ${mark(result.targets.overhead_per_job_s.met)}; script mode ≤ ${TARGET_SCRIPT_MODE_S} s: ${mark(result.targets.script_mode_overhead_s.met)} |`,
      `| the same job with the mount namespace off (MODELDROP_NO_NAMESPACE=1) | ${result.job_without_namespace_s} s | |`,
      `| what the per-job namespace costs | ${result.namespace_per_job_s} s | |`,
      `| orchestration overhead per non-job state (${result.non_job_states} states) | ${result.overhead_per_state_ms} ms | < ${TARGET_STATE_MS} ms: ${mark(result.targets.overhead_per_state_ms.met)} |`,
      `| **requirements.txt \`${venvPin}\` (not in .venv), fresh state folder:** first job, building the virtualenv | ${rv.first_job_s} s (${rv.first_job_overhead_s} s over bare) | |`,
      `| of which the build (\`python -m venv\` + \`pip install\`, from the job's log) | ${rv.install_s} s | |`,
      `| the next ${jobs} jobs, on the cached virtualenv (median) | ${rv.cached_job_s} s | |`,
      `| overhead per job on the cached virtualenv, over the script run bare | ${rv.cached_overhead_s} s | ≤ ${TARGET_SCRIPT_MODE_S} s: ${mark(result.targets.cached_venv_overhead_s.met)} |`,
      `| the script run bare on the cached virtualenv's Python (median of 7) | ${rv.bare_on_venv_python_s} s | |`,
      `| **requirements.txt of ${rb.pins} pins .venv has (the \`.base\` path), fresh state folder:** first job (checks the pins) | ${rb.first_job_s} s (${rb.first_job_overhead_s} s over bare) | |`,
      `| the next ${jobs} jobs (median) | ${rb.cached_job_s} s (${rb.cached_overhead_s} s over bare) | |`,
      "",
    ].join("\n");
    writeFileSync(join(RESULTS, "local_cloud.md"), table);
    console.log(table);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
