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
// costs. Targets: under 1 s per job (0.3 s for a script-mode job, issue 14), under 50 ms per
// non-job state. Figures go to bench/results/local_cloud.{json,md}.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalCloud, startLocalCloud } from "../local/cloud.js";
import { packageFixtureStack } from "../test/integration/fixture-stack.js";
import { at, executionHistory } from "./execution-history.js";

const ROOT = resolve(import.meta.dirname, "..");
const PYTHON = resolve(ROOT, ".venv", "bin", "python");
const RESULTS = resolve(ROOT, "bench", "results");
const TARGET_JOB_S = 1;
const TARGET_STATE_MS = 50;
/** Issue 14's target for a user's script-mode job over the same script run bare. */
const TARGET_SCRIPT_MODE_S = 0.3;
const BUCKET = "bench";
const ROLE = "arn:aws:iam::000000000000:role/bench";
const TRAIN_PY = "import sys\nsys.exit(0)\n";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

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

function bareProcessSeconds(script: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(PYTHON, [script]);
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

/** Per-job times of `jobs` training tasks and per-state time of `states` Pass/Choice states. */
async function measure(
  stateDir: string,
  jobs: number,
  stateCount: number,
  scratch: string,
): Promise<{ perJob: number[]; perStateMs: number }> {
  const cloud = await startLocalCloud({ stateDir });
  try {
    const config = clientConfig(cloud);
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "code/sourcedir.tar.gz",
        Body: readFileSync(join(scratch, "sourcedir.tar.gz")),
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
    if (stateCount === 0) return { perJob, perStateMs: 0 };

    const stateHistory = await runExecution(
      sfn,
      await create("bench-states", statesDefinition(stateCount)),
      "states",
    );
    const entered = stateHistory.filter((e) => e.type?.endsWith("StateEntered")).length;
    const span = at(stateHistory.at(-1)) - at(stateHistory[0]);
    return { perJob, perStateMs: span / entered };
  } finally {
    await cloud.stop();
  }
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

    const code = join(scratch, "code");
    mkdirSync(code);
    writeFileSync(join(code, "train.py"), TRAIN_PY);
    execFileSync("tar", ["-czf", join(scratch, "sourcedir.tar.gz"), "-C", code, "train.py"]);
    const bareJobS = bareProcessSeconds(join(code, "train.py"), 7);

    const withNamespace = await measure(join(scratch, "pipeline"), jobs, stateCount, scratch);
    // The same jobs with the per-job mount namespace off (the fallback), to show what it costs.
    process.env.MODELDROP_NO_NAMESPACE = "1";
    const withoutNamespace = await measure(join(scratch, "plain"), jobs, 0, scratch);
    delete process.env.MODELDROP_NO_NAMESPACE;
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
      overhead_per_job_s: round(overheadPerJobS),
      job_without_namespace_s: round(median(withoutNamespace.perJob)),
      namespace_per_job_s: round(namespaceS),
      non_job_states: stateCount + 1,
      overhead_per_state_ms: round(perStateMs, 2),
      targets: {
        overhead_per_job_s: { target: TARGET_JOB_S, met: overheadPerJobS < TARGET_JOB_S },
        script_mode_overhead_s: {
          target: TARGET_SCRIPT_MODE_S,
          met: overheadPerJobS <= TARGET_SCRIPT_MODE_S,
        },
        overhead_per_state_ms: { target: TARGET_STATE_MS, met: perStateMs < TARGET_STATE_MS },
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "local_cloud.json"), `${JSON.stringify(result, null, 2)}\n`);
    const mark = (met: boolean) => (met ? "met" : "MISSED");
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
      "",
    ].join("\n");
    writeFileSync(join(RESULTS, "local_cloud.md"), table);
    console.log(table);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
