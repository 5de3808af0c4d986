// A user's own scripts (SageMaker script mode) on the local cloud, driven by the AWS SDK as a
// user's client would: the source dir's requirements.txt installed into a cached virtualenv, and
// failures reported as SageMaker reports them (the training toolkit's ExecuteUserScriptError,
// bootstrap.py's ExitMessage for a processing script). pip needs PyPI: tomli-w is small, pure
// Python, and not in the project's .venv.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  DescribeProcessingJobCommand,
  type DescribeProcessingJobCommandOutput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  SageMakerClient,
  StopTrainingJobCommand,
} from "@aws-sdk/client-sagemaker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCloud } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const BUCKET = "script-jobs";
const IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311";
const ROLE = "arn:aws:iam::000000000000:role/modeldrop-sagemaker";
const PROBE = `modeldrop-write-probe-${process.pid}-${Date.now()}`;

/** Imports what requirements.txt brings, and tries to write into its own environment. */
const USES_TOMLI_W = `
import os, sys, tomli_w
print("toml:", tomli_w.dumps({"rows": 3}).strip(), flush=True)
try:
    open(os.path.join(sys.prefix, "${PROBE}"), "w").write("written by a job")
    print("venv: written", flush=True)
except OSError as error:
    print("venv: refused:", error.strerror, flush=True)
open("/opt/ml/model/model.txt", "w").write("trained")
`;

const RAISES = `
def check(column):
    raise ValueError(f"bad column {column}")
print("checking the columns", flush=True)
check("x")
`;

const SYNTAX_ERROR = `
def broken(:
    pass
`;

/** Writes outside the job folder: $HOME (caught, printed) and /usr/local (the job's failure). */
const WRITES_OUTSIDE = `
import os
try:
    open(os.path.join(os.path.expanduser("~"), "${PROBE}"), "w").write("written by a job")
    print("home: written", flush=True)
except OSError as error:
    print("home: refused:", error.strerror, flush=True)
open("/usr/local/${PROBE}", "w").write("written by a job")
`;

/** A processing step with its own argument, run by bootstrap.py --script. */
const PROCESS_RAISES = `
import argparse, tomli_w
parser = argparse.ArgumentParser()
parser.add_argument("--column")
args = parser.parse_args()
print("toml:", tomli_w.dumps({"column": args.column}).strip(), flush=True)
raise ValueError(f"bad column {args.column}")
`;

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let sagemaker: SageMakerClient;
let s3: S3Client;
let logs: CloudWatchLogsClient;
let folder: string;

/** Packs `files` as a sourcedir.tar.gz (as the SageMaker Python SDK does) and uploads it. */
async function sourceDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(folder, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const archive = join(folder, `${name}.tar.gz`);
  execFileSync("tar", ["-czf", archive, "-C", dir, ...Object.keys(files)]);
  const key = `code/${name}/sourcedir.tar.gz`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(archive) }));
  return `s3://${BUCKET}/${key}`;
}

async function train(
  name: string,
  submitDirectory: string,
): Promise<DescribeTrainingJobCommandOutput> {
  await sagemaker.send(
    new CreateTrainingJobCommand({
      TrainingJobName: name,
      RoleArn: ROLE,
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: "File" },
      HyperParameters: {
        sagemaker_program: '"train.py"',
        sagemaker_submit_directory: JSON.stringify(submitDirectory),
      },
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
      ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 600 },
    }),
  );
  for (;;) {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    if (["Completed", "Failed", "Stopped"].includes(job.TrainingJobStatus ?? "")) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function logLines(group: string, job: string): Promise<string[]> {
  const streams = await logs.send(
    new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: `${job}/` }),
  );
  const events = await logs.send(
    new GetLogEventsCommand({
      logGroupName: group,
      logStreamName: streams.logStreams?.[0]?.logStreamName,
      startFromHead: true,
    }),
  );
  return events.events?.map((e) => e.message ?? "") ?? [];
}

function venvs(): string[] {
  const dir = join(cloud.cloud.stateDir, "venvs");
  return existsSync(dir) ? readdirSync(dir) : [];
}

beforeAll(async () => {
  cloud = await startTestCloud({ stopGraceSeconds: 1 });
  sagemaker = new SageMakerClient(cloud.config);
  s3 = new S3Client({ ...cloud.config, forcePathStyle: true });
  logs = new CloudWatchLogsClient(cloud.config);
  folder = mkdtempSync(join(tmpdir(), "script-jobs-"));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await cloud?.cleanup();
  if (folder) rmSync(folder, { recursive: true, force: true });
  rmSync(join(homedir(), PROBE), { force: true });
  rmSync(join("/usr/local", PROBE), { force: true });
});

describe("a training job whose source dir has a requirements.txt", () => {
  let code: string;
  let first: DescribeTrainingJobCommandOutput;

  beforeAll(async () => {
    code = await sourceDir("tomli", {
      "train.py": USES_TOMLI_W,
      "requirements.txt": "tomli-w==1.2.0\n",
    });
    first = await train("requirements-first", code);
  }, 240_000);

  it("installs it with pip, in the job's log, and the script imports what it lists", async () => {
    const lines = await logLines("/aws/sagemaker/TrainingJobs", "requirements-first");

    expect(first.TrainingJobStatus, first.FailureReason).toBe("Completed");
    expect(lines[0]).toMatch(/^requirements\.txt: building the virtualenv venvs\/[0-9a-f]{12} /);
    expect(lines).toContain("Successfully installed tomli-w-1.2.0");
    expect(lines).toContain("toml: rows = 3");
  });

  it("keeps the virtualenv read-only for the script", async () => {
    const lines = await logLines("/aws/sagemaker/TrainingJobs", "requirements-first");

    expect(lines).toContain("venv: refused: Read-only file system");
    const built = venvs().filter((entry) => /^[0-9a-f]{64}$/.test(entry));
    expect(built).toHaveLength(1);
    expect(existsSync(join(cloud.cloud.stateDir, "venvs", built[0] ?? "", PROBE))).toBe(false);
  });

  it("reuses the cached virtualenv for the next job with the same requirements", async () => {
    const second = await train("requirements-second", code);

    const lines = await logLines("/aws/sagemaker/TrainingJobs", "requirements-second");
    expect(second.TrainingJobStatus, second.FailureReason).toBe("Completed");
    expect(lines[0]).toMatch(
      /^requirements\.txt: reusing the cached virtualenv venvs\/[0-9a-f]{12} \(built \d{4}-\d\d-\d\dT[\d:]+Z\)$/,
    );
    expect(lines.some((line) => line.startsWith("Collecting "))).toBe(false);
    expect(lines).toContain("toml: rows = 3");
  }, 120_000);

  it("fails the job naming the requirement that does not install, and keeps no half-built virtualenv", async () => {
    const missing = await sourceDir("missing", {
      "train.py": "print('never runs')\n",
      "requirements.txt": "nosuchpkg-modeldrop-test==9.9.9\n",
    });

    const job = await train("requirements-missing", missing);

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toBe(
      "ClientError: requirements.txt did not install: No matching distribution found for nosuchpkg-modeldrop-test==9.9.9",
    );
    expect(await logLines("/aws/sagemaker/TrainingJobs", "requirements-missing")).not.toContain(
      "never runs",
    );
    expect(venvs().filter((entry) => entry.startsWith(".build-"))).toEqual([]);
    expect(venvs().filter((entry) => /^[0-9a-f]{64}$/.test(entry))).toHaveLength(1);
  }, 120_000);
});

describe("a training job stopped while pip installs its requirements.txt", () => {
  let index: Server;

  // An index that accepts the connection and never answers: pip waits (PIP_DEFAULT_TIMEOUT).
  beforeAll(async () => {
    index = createServer(() => {});
    await new Promise<void>((done) => index.listen(0, "127.0.0.1", done));
  });

  afterAll(() => {
    index.closeAllConnections();
    index.close();
  });

  it("stops pip and leaves no half-built virtualenv", async () => {
    const { port } = index.address() as AddressInfo;
    const code = await sourceDir("hanging", {
      "train.py": "print('never runs')\n",
      "requirements.txt": `hangs @ http://127.0.0.1:${port}/hangs-1.0-py3-none-any.whl\n`,
    });
    const ended = train("requirements-stopped", code);
    for (;;) {
      const lines = await logLines("/aws/sagemaker/TrainingJobs", "requirements-stopped").catch(
        () => [],
      );
      if (lines.some((line) => line.startsWith("requirements.txt: building"))) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: "requirements-stopped" }));
    const job = await ended;

    expect(job.TrainingJobStatus).toBe("Stopped");
    expect(venvs().filter((entry) => entry.startsWith(".build-"))).toEqual([]);
  }, 60_000);
});

describe("a training script that fails", () => {
  it("gives the exception's last lines in FailureReason, as the training toolkit does", async () => {
    const job = await train("script-raises", await sourceDir("raises", { "train.py": RAISES }));

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toMatch(
      /^AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback \(most recent call last\):\n/,
    );
    expect(job.FailureReason).toContain('ValueError: bad column x"\nCommand "');
    expect(job.FailureReason).toMatch(/\nCommand "\S+python train\.py"$/);
    expect(job.FailureReason).not.toContain("checking the columns");
  });

  it("shows a syntax error's lines", async () => {
    const job = await train(
      "script-syntax",
      await sourceDir("syntax", { "train.py": SYNTAX_ERROR }),
    );

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toContain("def broken(:");
    expect(job.FailureReason).toContain("SyntaxError: ");
  });

  it("names an entry point that is not in the source dir, and what is", async () => {
    const job = await train("script-missing", await sourceDir("elsewhere", { "fit.py": "" }));

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toBe(
      `AlgorithmError: the entry point train.py (the sagemaker_program hyperparameter) is not in the source dir s3://${BUCKET}/code/elsewhere/sourcedir.tar.gz, which holds: fit.py`,
    );
  });

  it("cannot write outside the job folder: $HOME and /usr/local are a read-only file system", async () => {
    const job = await train(
      "script-escape",
      await sourceDir("escape", { "train.py": WRITES_OUTSIDE }),
    );

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toContain(
      `OSError: [Errno 30] Read-only file system: '/usr/local/${PROBE}'`,
    );
    expect(await logLines("/aws/sagemaker/TrainingJobs", "script-escape")).toContain(
      "home: refused: Read-only file system",
    );
    expect(existsSync(join(homedir(), PROBE))).toBe(false);
    expect(existsSync(join("/usr/local", PROBE))).toBe(false);
  });
});

describe("a processing job running a user's script with bootstrap.py --script", () => {
  let job: DescribeProcessingJobCommandOutput;

  // The inputs the pipeline's own processing steps have (statemachines/training-pipeline.asl.json):
  // bootstrap.py as `entrypoint`, the code archive as `code`.
  beforeAll(async () => {
    const code = await sourceDir("process", {
      "process.py": PROCESS_RAISES,
      "requirements.txt": "tomli-w==1.2.0\n",
    });
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "entrypoint/bootstrap.py",
        Body: readFileSync(join(ROOT, "ml", "bootstrap.py")),
      }),
    );
    const input = (name: string, uri: string, localPath: string) => ({
      InputName: name,
      S3Input: {
        S3Uri: uri,
        LocalPath: localPath,
        S3DataType: "S3Prefix" as const,
        S3InputMode: "File" as const,
      },
    });
    await sagemaker.send(
      new CreateProcessingJobCommand({
        ProcessingJobName: "process-raises",
        RoleArn: ROLE,
        AppSpecification: {
          ImageUri: IMAGE,
          ContainerEntrypoint: [
            "python3",
            "/opt/ml/processing/input/entrypoint/bootstrap.py",
            "--code",
            "/opt/ml/processing/input/code/sourcedir.tar.gz",
            "--script",
            "process.py",
          ],
          ContainerArguments: ["--column", "x"],
        },
        ProcessingInputs: [
          input("entrypoint", `s3://${BUCKET}/entrypoint/`, "/opt/ml/processing/input/entrypoint"),
          input("code", code, "/opt/ml/processing/input/code"),
        ],
        ProcessingResources: {
          ClusterConfig: { InstanceCount: 1, InstanceType: "ml.m5.large", VolumeSizeInGB: 10 },
        },
      }),
    );
    for (;;) {
      job = await sagemaker.send(
        new DescribeProcessingJobCommand({ ProcessingJobName: "process-raises" }),
      );
      if (["Completed", "Failed", "Stopped"].includes(job.ProcessingJobStatus ?? "")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 240_000);

  it("reports the script's traceback end as the ExitMessage", () => {
    expect(job.ProcessingJobStatus).toBe("Failed");
    expect(job.FailureReason).toBe("AlgorithmError: See job logs for more information");
    expect(job.ExitMessage).toMatch(
      /^process\.py failed \(exit code 1\): Traceback \(most recent call last\):\n/,
    );
    expect(job.ExitMessage?.endsWith("ValueError: bad column x")).toBe(true);
  });

  it("runs it with the code archive's requirements installed", async () => {
    const lines = await logLines("/aws/sagemaker/ProcessingJobs", "process-raises");

    expect(lines[0]).toMatch(
      /^requirements\.txt: (building the|reusing the cached) virtualenv venvs\//,
    );
    expect(lines).toContain('toml: column = "x"');
  });
});
