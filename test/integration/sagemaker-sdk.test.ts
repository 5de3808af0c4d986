// The SageMaker Python SDK (v2) against the local cloud: the calls modeldrop's users write (a
// Session and its default bucket, SKLearn, PyTorch and XGBoost estimators' fit, attach, the
// processors, a batch transform), each a subcommand of test/sdk/calls.py run in .venv-sdk with
// only the local endpoint to talk to. Every other address goes through a proxy that refuses and
// records it, so a call home (STS's public endpoint, telemetry, an image lookup) fails the test.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { DescribeTrainingJobCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { frameworkImageUri } from "../../core/code-manifest.js";
import type { LocalCloud } from "../../local/cloud.js";
import { parseS3Uri } from "../../local/s3-uri.js";
import containers from "../../ml/modeldrop_ml/containers.json" with { type: "json" };
import { type ClientConfig, startTestCloud } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = join(ROOT, ".venv-sdk", "bin", "python");
const CALLS = join(ROOT, "test", "sdk", "calls.py");
const INPUTS = "sdk-inputs";
const run = promisify(execFile);

let cloud: LocalCloud;
let config: ClientConfig;
let cleanup: () => Promise<void>;
let s3: S3Client;
let logs: CloudWatchLogsClient;
let folder: string;
let outside: { server: Server; attempts: string[] };

/**
 * The rows the training and processing jobs read: two features and a 0/1 label. `from` shifts
 * the sequence, for a validation set that is not the training set.
 */
function trainingRows(from = 0): string {
  const rows = ["x1,x2,y"];
  for (let i = from; i < from + 60; i += 1) {
    const y = i % 2;
    rows.push(`${(y * 2 + Math.sin(i)).toFixed(3)},${(Math.cos(i) - y).toFixed(3)},${y}`);
  }
  return `${rows.join("\n")}\n`;
}

/** An HTTP(S) proxy that answers nothing: it only records where a request tried to go. */
async function refusingProxy(): Promise<{ server: Server; attempts: string[] }> {
  const attempts: string[] = [];
  const server = createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(502).end();
  });
  server.on("connect", (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, attempts };
}

/**
 * The environment a user of the local cloud sets: its endpoint, any credentials, the region, and
 * the SDK's defaults config (local/README.md). Nothing of this machine's AWS or SDK setup leaks in.
 */
function sdkEnvironment(): Record<string, string> {
  const proxy = `http://127.0.0.1:${(outside.server.address() as AddressInfo).port}`;
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: folder,
    LANG: "C.UTF-8",
    AWS_ENDPOINT_URL: cloud.endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_REGION: cloud.region,
    AWS_DEFAULT_REGION: cloud.region,
    AWS_CONFIG_FILE: join(folder, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(folder, "no-aws-credentials"),
    SAGEMAKER_ADMIN_CONFIG_OVERRIDE: join(folder, "sagemaker-config.yaml"),
    SAGEMAKER_USER_CONFIG_OVERRIDE: join(folder, "sagemaker-config.yaml"),
    SAGEMAKER_SUPPRESS_V2_WARNING: "1",
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    NO_PROXY: "127.0.0.1,localhost",
  };
}

/** Runs one call of test/sdk/calls.py and returns the JSON object it ends with. */
async function sdk(call: string, ...args: string[]): Promise<Record<string, unknown>> {
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, [CALLS, call, ...args], {
      cwd: ROOT,
      env: sdkEnvironment(),
      maxBuffer: 16 * 1024 ** 2,
      timeout: 240_000,
    }));
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`calls.py ${call} failed:\n${`${stdout}\n${stderr}`.slice(-6000)}`);
  }
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`calls.py ${call} printed no RESULT line:\n${stdout.slice(-4000)}`);
  return JSON.parse(line.slice("RESULT ".length)) as Record<string, unknown>;
}

/** A job's log as CloudWatch Logs has it: the lines of its one stream (`<job>/algo-1-<time>`). */
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

async function trainingJob(name: unknown) {
  return new SageMakerClient(config).send(
    new DescribeTrainingJobCommand({ TrainingJobName: String(name) }),
  );
}

async function objectKeys(uri: string): Promise<string[]> {
  const { bucket, key } = parseS3Uri(uri);
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
  return (listing.Contents ?? []).map((o) => o.Key ?? "");
}

beforeAll(async () => {
  // Installs .venv-sdk on first use, as .ci/run does in CI; a no-op while its pins are unchanged.
  execFileSync("bash", [join(ROOT, "test", "sdk", "setup-venv.sh")], { stdio: "inherit" });
  ({ cloud, config, cleanup } = await startTestCloud());
  s3 = new S3Client({ ...config, forcePathStyle: true });
  logs = new CloudWatchLogsClient(config);
  outside = await refusingProxy();
  folder = mkdtempSync(join(tmpdir(), "sagemaker-sdk-"));
  writeFileSync(join(folder, "train.csv"), trainingRows());
  // The SDK's defaults config: the default bucket named as the SDK names it
  // (`sagemaker-<region>-<account>`; the SDK asks STS's public endpoint for the account, whatever
  // AWS_ENDPOINT_URL says), and telemetry off (it is a GET to an amazonaws.com bucket).
  writeFileSync(
    join(folder, "sagemaker-config.yaml"),
    [
      'SchemaVersion: "1.0"',
      "SageMaker:",
      "  PythonSDK:",
      "    Modules:",
      "      TelemetryOptOut: true",
      "      Session:",
      `        DefaultS3Bucket: sagemaker-${cloud.region}-${cloud.account}`,
      "",
    ].join("\n"),
  );
  await s3.send(new CreateBucketCommand({ Bucket: INPUTS }));
  await s3.send(
    new PutObjectCommand({ Bucket: INPUTS, Key: "tables/train.csv", Body: trainingRows() }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: INPUTS,
      Key: "validation/validation.csv",
      Body: trainingRows(60),
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: INPUTS, Key: "rows/rows.csv", Body: "2.1,-1.2\n-0.3,0.4\n" }),
  );
}, 300_000);

afterEach(() => {
  expect(outside.attempts, "requests that tried to leave the machine").toEqual([]);
});

afterAll(async () => {
  await cleanup?.();
  outside?.server.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("a SageMaker Python SDK session on the local cloud", () => {
  it("names its default bucket after the local account, as STS reports it, and creates it", async () => {
    const session = await sdk("session");

    expect(session).toMatchObject({ account: cloud.account, region: cloud.region });
    expect(session.defaultBucket).toBe(`sagemaker-${cloud.region}-${cloud.account}`);
    await expect(
      s3.send(new HeadBucketCommand({ Bucket: String(session.defaultBucket) })),
    ).resolves.toMatchObject({ BucketRegion: cloud.region });
    expect(session.unservedStsAction).toBe("InvalidAction");
  }, 120_000);
});

describe("an SKLearn estimator on the local cloud", () => {
  let fitted: Record<string, unknown>;

  beforeAll(async () => {
    fitted = await sdk("fit", "--train-csv", join(folder, "train.csv"));
  }, 300_000);

  it("fit() returns once the training job has completed, with the model artifact in S3", async () => {
    const job = await trainingJob(fitted.jobName);

    expect(job.TrainingJobStatus).toBe("Completed");
    expect(fitted.modelData).toBe(job.ModelArtifacts?.S3ModelArtifacts);
    const artifact = parseS3Uri(String(fitted.modelData));
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: artifact.bucket, Key: artifact.key })),
    ).resolves.toMatchObject({ ContentLength: expect.any(Number) });
    expect(fitted.hyperparameters).toEqual({ C: "0.5", "max-iter": "200" });
  });

  it("attach() gives the same job's hyperparameters, model data, script and tags", async () => {
    const attached = await sdk("attach", "--job-name", String(fitted.jobName));

    expect(attached).toMatchObject({
      jobName: fitted.jobName,
      modelData: fitted.modelData,
      hyperparameters: fitted.hyperparameters,
      entryPoint: "train.py",
      frameworkVersion: "1.2-1",
      tags: [{ Key: "team", Value: "modeldrop" }],
    });
  }, 120_000);

  // The SDK's model names its script (SAGEMAKER_PROGRAM=train.py in SAGEMAKER_SUBMIT_DIRECTORY):
  // its model_fn loads the model, scikit-learn's serving defaults (modeldrop_ml/serving.py) read
  // the CSV lines and write model.predict's labels as JSON.
  it("transformer().transform() writes a prediction file for each input", async () => {
    const transformed = await sdk(
      "transform",
      "--job-name",
      String(fitted.jobName),
      "--input",
      `s3://${INPUTS}/rows/`,
    );

    expect(await objectKeys(String(transformed.output))).toContain(
      `${parseS3Uri(String(transformed.output)).key}/rows.csv.out`,
    );
  }, 240_000);

  // The endpoint is a serving process of the local cloud (local/sagemaker-endpoints.ts) with the
  // model's script: its model_fn, and scikit-learn's defaults for the rest.
  it("deploy() serves the model on an endpoint that predict() reaches, until delete_endpoint()", async () => {
    const deployed = await sdk("deploy", "--job-name", String(fitted.jobName));

    expect(deployed.status).toBe("InService");
    expect(deployed.variants).toEqual(["AllTraffic"]);
    // Both rows are clearly of their class in trainingRows (x1 high: 1, x1 low: 0).
    expect(deployed.numpyLabels).toEqual([1, 0]);
    expect(deployed.csvLabels).toEqual([1, 0]);
    expect(deployed.modelError).toMatchObject({ code: "ModelError", originalStatusCode: 500 });
    expect(String((deployed.modelError as { message: string }).message)).toMatch(
      /Received server error \(500\) from primary with message ".*features/s,
    );
    expect(deployed.afterDelete).toMatch(/Could not find endpoint/);
  }, 240_000);
});

// The toolkit passes the hyperparameters sorted by name (`--batch-size 8 --epochs 1`); each
// script echoes its arguments first. fit() takes about 45 s for an 8 s job (importing torch):
// the SDK first asks for the job's status after 5 s, then only every 30 s.
describe("a PyTorch estimator on the local cloud", () => {
  let fitted: Record<string, unknown>;

  beforeAll(async () => {
    fitted = await sdk("fit-pytorch", "--input", `s3://${INPUTS}/tables/`);
  }, 300_000);

  it("fit() returns once the training job has completed, with model.pth in model.tar.gz", async () => {
    const job = await trainingJob(fitted.jobName);

    expect(job.TrainingJobStatus).toBe("Completed");
    expect(fitted.modelData).toBe(job.ModelArtifacts?.S3ModelArtifacts);
    expect(fitted.modelFiles).toEqual(["model.pth"]);
    expect(job.FinalMetricDataList?.map((m) => m.MetricName)).toEqual(["train:loss"]);
  });

  it("fit() gives the script its hyperparameters as arguments, and the script trains one epoch", async () => {
    const lines = await logLines("/aws/sagemaker/TrainingJobs", String(fitted.jobName));

    expect(fitted.hyperparameters).toEqual({ epochs: "1", "batch-size": "8" });
    expect(lines).toContain("arguments: --batch-size 8 --epochs 1");
    expect(lines.filter((line) => /^epoch=\d+ loss=[0-9.]+$/.test(line))).toEqual([
      expect.stringMatching(/^epoch=1 /),
    ]);
  });

  it("fit() with instance_count=2 raises the job's failure instead of running one instance", async () => {
    const refused = await sdk("fit-two-instances", "--input", `s3://${INPUTS}/tables/`);

    expect(refused).toMatchObject({ error: "UnexpectedStatusException", status: "Failed" });
    expect(String(refused.message)).toContain(
      "ClientError: the local cloud runs one instance per job; InstanceCount 2 needs AWS",
    );
    expect((await trainingJob(refused.jobName)).TrainingJobStatus).toBe("Failed");
  }, 240_000);
});

describe("an XGBoost estimator on the local cloud", () => {
  let fitted: Record<string, unknown>;

  beforeAll(async () => {
    fitted = await sdk(
      "fit-xgboost",
      "--input",
      `s3://${INPUTS}/tables/`,
      "--validation",
      `s3://${INPUTS}/validation/`,
    );
  }, 300_000);

  it("fit() returns once the training job has completed, with xgboost-model in model.tar.gz", async () => {
    const job = await trainingJob(fitted.jobName);

    expect(job.TrainingJobStatus).toBe("Completed");
    expect(fitted.modelData).toBe(job.ModelArtifacts?.S3ModelArtifacts);
    expect(fitted.modelFiles).toEqual(["xgboost-model"]);
    expect(job.FinalMetricDataList?.map((m) => m.MetricName)).toEqual(["validation:logloss"]);
  });

  it("fit() gives the script its hyperparameters as arguments and both channels", async () => {
    const lines = await logLines("/aws/sagemaker/TrainingJobs", String(fitted.jobName));

    expect(fitted.hyperparameters).toEqual({ "num-round": "5", "max-depth": "2" });
    expect(lines).toContain("arguments: --max-depth 2 --num-round 5");
    expect(lines.filter((line) => line.includes("validation-logloss:"))).toHaveLength(5);
  });
});

describe("SageMaker Python SDK processors on the local cloud", () => {
  it("SKLearnProcessor.run() runs the script and uploads what it writes", async () => {
    const processed = await sdk("process", "--input", `s3://${INPUTS}/tables/`);

    expect(await objectKeys(String(processed.output))).toEqual([
      `${parseS3Uri(String(processed.output)).key}/summary.csv`,
    ]);
  }, 240_000);

  // The SDK's runproc.sh changes into /opt/ml/processing/input/code/ (the job's own /opt/ml)
  // and runs `python process.py` (the framework's Python, first on the job's PATH).
  it("FrameworkProcessor.run() with a source_dir runs the script and uploads what it writes", async () => {
    const processed = await sdk("framework-process", "--input", `s3://${INPUTS}/tables/`);

    expect(await objectKeys(String(processed.output))).toEqual([
      `${parseS3Uri(String(processed.output)).key}/summary.csv`,
    ]);
  }, 240_000);

  // The source dir's requirements.txt pins joblib at the .venv's version, so the local cloud
  // runs the job on the .venv and runproc.sh's `pip install -r requirements.txt` finds it there.
  it("PyTorchProcessor.run() installs the source dir's requirements.txt, then runs the script with its arguments", async () => {
    const processed = await sdk("pytorch-process", "--input", `s3://${INPUTS}/tables/`);

    const { bucket, key } = parseS3Uri(`${String(processed.output)}/head.csv`);
    const head = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await head.Body?.transformToString()).toBe(
      `${trainingRows().split("\n").slice(0, 6).join("\n")}\n`,
    );
    const lines = await logLines("/aws/sagemaker/ProcessingJobs", String(processed.jobName));
    expect(lines).toContainEqual(expect.stringMatching(/^requirements\.txt: /));
    expect(lines).toContainEqual(
      expect.stringMatching(/^Requirement already satisfied: joblib==1\.6\.0/),
    );
    expect(lines).toContain("kept 5 rows with joblib 1.6.0 at hand");
  }, 240_000);
});

describe("the framework images modeldrop runs a user's scripts in", () => {
  // The py_version write_framework_images.py asks for: the newest the SDK lists for the version.
  const RETRIEVE = [
    "import json, sys",
    "from sagemaker import image_uris",
    "uris = []",
    "for c in json.loads(sys.argv[1]):",
    "    config = image_uris.config_for_framework(c['framework'])[c['scope']]['versions'][c['version']]",
    "    py = (config.get('py_versions') or [None])[-1]",
    "    uris.append(image_uris.retrieve(c['framework'], region=c['region'], version=c['version'],",
    "        py_version=py, instance_type=c['instanceType'], image_scope=c['scope']))",
    "print('RESULT ' + json.dumps(uris))",
  ].join("\n");

  it("are the ones the SDK's image_uris.retrieve names, in the commercial and China regions, on CPU and GPU", async () => {
    const combos = [
      ["sklearn", "1.0-1", "training", "us-east-1", "ml.m5.xlarge"],
      ["sklearn", "1.2-1", "inference", "cn-north-1", "ml.c5.xlarge"],
      ["sklearn", "1.2-1", "training", "af-south-1", "ml.m5.large"],
      ["xgboost", "1.7-1", "training", "eu-west-1", "ml.g5.xlarge"],
      ["xgboost", "3.0-5", "inference", "ap-east-1", "ml.m5.xlarge"],
      ["xgboost", "3.0-5", "training", "cn-northwest-1", "ml.p3.2xlarge"],
      ["pytorch", "2.3.0", "training", "af-south-1", "ml.g4dn.xlarge"],
      ["pytorch", "2.4.0", "training", "us-west-2", "ml.p4d.24xlarge"],
      ["pytorch", "2.5.1", "inference", "ap-east-1", "ml.g5.xlarge"],
      ["pytorch", "2.5.1", "training", "cn-north-1", "ml.m5.xlarge"],
      ["pytorch", "2.6.0", "inference", "eu-central-1", "ml.c5.2xlarge"],
      ["pytorch", "2.6.0", "training", "me-south-1", "ml.g6.xlarge"],
    ] as const;
    const asked = combos.map(([framework, version, scope, region, instanceType]) => ({
      framework,
      version,
      scope,
      region,
      instanceType,
    }));

    const { stdout } = await run(PYTHON, ["-c", RETRIEVE, JSON.stringify(asked)], {
      cwd: ROOT,
      env: sdkEnvironment(),
      timeout: 120_000,
    });
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT ")) ?? "RESULT []";
    const sdkUris: unknown = JSON.parse(line.slice("RESULT ".length));

    expect(sdkUris).toEqual(
      asked.map((combo) =>
        frameworkImageUri({ ...combo, gpuFamilies: containers.gpu_instance_families }),
      ),
    );
  }, 120_000);
});
