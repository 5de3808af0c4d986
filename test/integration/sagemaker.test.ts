import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  AddTagsCommand,
  CreateProcessingJobCommand,
  type CreateProcessingJobCommandInput,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DeleteTagsCommand,
  DescribeProcessingJobCommand,
  type DescribeProcessingJobCommandOutput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  ListTagsCommand,
  SageMakerClient,
  StopTrainingJobCommand,
} from "@aws-sdk/client-sagemaker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientConfig, startTestCloud } from "./helpers.js";

let config: ClientConfig;
let cleanup: () => Promise<void>;
let sagemaker: SageMakerClient;
let s3: S3Client;
const bucket = "jobs-bucket";

/** A script-mode training program: echoes its arguments, writes a model, prints a metric, or sleeps / fails on request. */
const TRAIN_PY = `
import json, os, sys, time
args = sys.argv[1:]
hp = json.load(open(os.path.join(os.environ["MODELDROP_OPT_ML"], "input", "config", "hyperparameters.json")))
data = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read()
print("args", json.dumps(args), flush=True)
if hp.get("mode") == "fail":
    open(os.path.join(os.environ["MODELDROP_OPT_ML"], "output", "failure"), "w").write("the target column 'y' is missing")
    sys.exit(1)
if hp.get("mode") == "sleep":
    time.sleep(60)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(data)
print("validation-accuracy=0.875", flush=True)
`;

beforeAll(async () => {
  const started = await startTestCloud({ stopGraceSeconds: 1 });
  ({ config, cleanup } = started);
  sagemaker = new SageMakerClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const folder = mkdtempSync(join(tmpdir(), "sourcedir-"));
  writeFileSync(join(folder, "train.py"), TRAIN_PY);
  execFileSync("tar", ["-czf", join(folder, "sourcedir.tar.gz"), "-C", folder, "train.py"]);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: "code/sourcedir.tar.gz",
      Body: execFileSync("cat", [join(folder, "sourcedir.tar.gz")]),
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "data/train/rows.csv", Body: "a,b\n1,2\n" }),
  );
});

afterAll(async () => {
  await cleanup();
});

function trainingJob(
  name: string,
  hyperparameters: Record<string, string> = {},
  maxRuntime = 600,
): CreateTrainingJobCommandInput {
  return {
    TrainingJobName: name,
    RoleArn: "arn:aws:iam::000000000000:role/modeldrop-sagemaker",
    AlgorithmSpecification: {
      TrainingImage:
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",
      TrainingInputMode: "File",
      MetricDefinitions: [{ Name: "validation:accuracy", Regex: "validation-accuracy=([0-9.]+)" }],
    },
    HyperParameters: {
      sagemaker_program: "train.py",
      sagemaker_submit_directory: `s3://${bucket}/code/sourcedir.tar.gz`,
      max_depth: "6",
      ...hyperparameters,
    },
    InputDataConfig: [
      {
        ChannelName: "train",
        DataSource: {
          S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${bucket}/data/train/` },
        },
      },
    ],
    OutputDataConfig: { S3OutputPath: `s3://${bucket}/runs/r1/jobs` },
    ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: maxRuntime },
  };
}

async function waitForEnd(name: string): Promise<DescribeTrainingJobCommandOutput> {
  for (;;) {
    const job = await sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    if (["Completed", "Failed", "Stopped"].includes(job.TrainingJobStatus ?? "")) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("local SageMaker training jobs", () => {
  it("runs a script-mode job under the container contract and uploads model.tar.gz", async () => {
    await sagemaker.send(new CreateTrainingJobCommand(trainingJob("train-ok")));

    const job = await waitForEnd("train-ok");

    expect(job.TrainingJobStatus).toBe("Completed");
    expect(job.SecondaryStatusTransitions?.map((t) => t.Status)).toEqual([
      "Starting",
      "Downloading",
      "Training",
      "Uploading",
      "Completed",
    ]);
    expect(job.FinalMetricDataList).toEqual([
      expect.objectContaining({ MetricName: "validation:accuracy", Value: 0.875 }),
    ]);
    expect(job.BillableTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(job.ModelArtifacts?.S3ModelArtifacts).toBe(
      `s3://${bucket}/runs/r1/jobs/train-ok/output/model.tar.gz`,
    );
    const artifact = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "runs/r1/jobs/train-ok/output/model.tar.gz" }),
    );
    const folder = mkdtempSync(join(tmpdir(), "model-"));
    writeFileSync(
      join(folder, "model.tar.gz"),
      await (artifact.Body as NonNullable<typeof artifact.Body>).transformToByteArray(),
    );
    expect(
      execFileSync("tar", ["-xOzf", join(folder, "model.tar.gz"), "./model.txt"], {
        encoding: "utf8",
      }),
    ).toBe("a,b\n1,2\n");
    const logs = new CloudWatchLogsClient(config);
    const streams = await logs.send(
      new DescribeLogStreamsCommand({
        logGroupName: "/aws/sagemaker/TrainingJobs",
        logStreamNamePrefix: "train-ok/",
      }),
    );
    const events = await logs.send(
      new GetLogEventsCommand({
        logGroupName: "/aws/sagemaker/TrainingJobs",
        logStreamName: streams.logStreams?.[0]?.logStreamName,
        startFromHead: true,
      }),
    );
    expect(events.events?.map((e) => e.message)).toContain('args ["--max_depth", "6"]');
  });

  it("reports the failure file as FailureReason", async () => {
    await sagemaker.send(
      new CreateTrainingJobCommand(trainingJob("train-fails", { mode: "fail" })),
    );

    const job = await waitForEnd("train-fails");

    expect(job.TrainingJobStatus).toBe("Failed");
    expect(job.FailureReason).toContain("the target column 'y' is missing");
  });

  it("refuses a duplicate job name, an invalid name and an unknown job as AWS does", async () => {
    const duplicate = sagemaker.send(new CreateTrainingJobCommand(trainingJob("train-ok")));
    const invalid = sagemaker.send(new CreateTrainingJobCommand(trainingJob("bad_name!")));
    const unknown = sagemaker.send(
      new DescribeTrainingJobCommand({ TrainingJobName: "never-created" }),
    );
    const stopFinished = sagemaker.send(
      new StopTrainingJobCommand({ TrainingJobName: "train-ok" }),
    );

    await expect(duplicate).rejects.toMatchObject({ name: "ResourceInUse" });
    await expect(invalid).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("trainingJobName"),
    });
    await expect(unknown).rejects.toMatchObject({ name: "ResourceNotFound" });
    await expect(stopFinished).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("describes a job with what SageMaker fills in, and keeps its tags for ListTags", async () => {
    const created = await sagemaker.send(
      new CreateTrainingJobCommand({
        ...trainingJob("train-tagged"),
        Tags: [{ Key: "team", Value: "ml" }],
      }),
    );

    const job = await waitForEnd("train-tagged");
    const tags = await sagemaker.send(
      new ListTagsCommand({ ResourceArn: String(created.TrainingJobArn) }),
    );

    expect(job.OutputDataConfig).toEqual({
      S3OutputPath: `s3://${bucket}/runs/r1/jobs`,
      KmsKeyId: "",
    });
    expect(job).toMatchObject({
      EnableNetworkIsolation: false,
      EnableInterContainerTrafficEncryption: false,
      EnableManagedSpotTraining: false,
    });
    expect(tags.Tags).toEqual([{ Key: "team", Value: "ml" }]);
  });

  it("adds and deletes a job's tags, and refuses tags for a resource that does not exist", async () => {
    const { TrainingJobArn: arn } = await sagemaker.send(
      new DescribeTrainingJobCommand({ TrainingJobName: "train-ok" }),
    );

    await sagemaker.send(
      new AddTagsCommand({
        ResourceArn: arn,
        Tags: [
          { Key: "stage", Value: "dev" },
          { Key: "owner", Value: "a" },
        ],
      }),
    );
    await sagemaker.send(
      new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: "owner", Value: "b" }] }),
    );
    await sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ["stage"] }));
    const tags = await sagemaker.send(new ListTagsCommand({ ResourceArn: arn }));
    const unknown = sagemaker.send(
      new ListTagsCommand({
        ResourceArn: "arn:aws:sagemaker:us-east-1:000000000000:training-job/never-created",
      }),
    );

    expect(tags.Tags).toEqual([{ Key: "owner", Value: "b" }]);
    await expect(unknown).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("stops a running job when asked, and ends one that runs past MaxRuntimeInSeconds", async () => {
    await sagemaker.send(
      new CreateTrainingJobCommand(trainingJob("train-stopped", { mode: "sleep" })),
    );
    await sagemaker.send(
      new CreateTrainingJobCommand(trainingJob("train-too-long", { mode: "sleep" }, 1)),
    );
    for (;;) {
      const job = await sagemaker.send(
        new DescribeTrainingJobCommand({ TrainingJobName: "train-stopped" }),
      );
      if (job.SecondaryStatus === "Training") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    await sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: "train-stopped" }));
    const stopped = await waitForEnd("train-stopped");
    const tooLong = await waitForEnd("train-too-long");

    expect(stopped.TrainingJobStatus).toBe("Stopped");
    expect(tooLong.TrainingJobStatus).toBe("Stopped");
    expect(tooLong.SecondaryStatus).toBe("MaxRuntimeExceeded");
    expect(tooLong.FailureReason).toContain("MaxRuntimeInSeconds");
  }, 30_000);
});

/** Scripts written for SageMaker: /opt/ml paths hard-coded, no path arguments. */
const CONTAINER_TRAIN_PY = `
import json, os, subprocess, sys, time
hp = json.load(open("/opt/ml/input/config/hyperparameters.json"))
if hp.get("mode") == "orphan":
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", hp["marker"]], start_new_session=True)
    print("started a process outside the job's process group", flush=True)
    time.sleep(600)
if hp.get("mode") == "escape":
    try:
        open(hp["target"], "w").write("written by a job")
        print("wrote outside the job folder", flush=True)
    except OSError as error:
        print("refused:", error.strerror, flush=True)
rows = open("/opt/ml/input/data/train/rows.csv").read()
open("/opt/ml/model/model.txt", "w").write(rows)
open("/opt/ml/output/data/notes.txt", "w").write("trained on %d lines" % len(rows.splitlines()))
print("env", json.dumps({k: v for k, v in os.environ.items() if k.startswith("SM_")}), flush=True)
print("args", json.dumps(sys.argv[1:]), flush=True)
`;

/** The same job written against the SM_* variables only: it runs with or without /opt/ml. */
const PORTABLE_TRAIN_PY = `
import os
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read()
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(rows)
`;

const CONTAINER_PROCESS_PY = `
import json, os, time
time.sleep(float(os.environ.get("HOLD_SECONDS", "0")))
config = json.load(open("/opt/ml/config/processingjobconfig.json"))
resources = json.load(open("/opt/ml/config/resourceconfig.json"))
os.makedirs("/opt/ml/processing/output/y", exist_ok=True)
json.dump(
    {
        "job": config["ProcessingJobName"],
        "host": resources["current_host"],
        "inputs": sorted(os.listdir("/opt/ml/processing/input/x")),
    },
    open("/opt/ml/processing/output/y/seen.json", "w"),
)
`;

describe("a job sees what a SageMaker container sees", () => {
  const jobs = "container-jobs";
  let cloud: Awaited<ReturnType<typeof startTestCloud>>;
  let client: SageMakerClient;
  let objects: S3Client;
  let logs: CloudWatchLogsClient;
  let code: string;

  beforeAll(async () => {
    cloud = await startTestCloud({ stopGraceSeconds: 1, jobSlots: 2 });
    client = new SageMakerClient(cloud.config);
    objects = new S3Client({ ...cloud.config, forcePathStyle: true });
    logs = new CloudWatchLogsClient(cloud.config);
    await objects.send(new CreateBucketCommand({ Bucket: jobs }));
    code = mkdtempSync(join(tmpdir(), "container-code-"));
    writeFileSync(join(code, "train.py"), CONTAINER_TRAIN_PY);
    writeFileSync(join(code, "portable.py"), PORTABLE_TRAIN_PY);
    execFileSync("tar", ["-czf", join(code, "sourcedir.tar.gz"), "-C", code, "train.py"]);
    execFileSync("tar", ["-czf", join(code, "portable.tar.gz"), "-C", code, "portable.py"]);
    await Promise.all([
      put(objects, "code/sourcedir.tar.gz", readFileSync(join(code, "sourcedir.tar.gz"))),
      put(objects, "code/process.py", CONTAINER_PROCESS_PY),
      put(objects, "data/train/rows.csv", "a,b\n1,2\n3,4\n"),
      put(objects, "data/first/a.csv", "a\n"),
      put(objects, "data/second/b.csv", "b\n"),
    ]);
  });

  afterAll(async () => {
    await cloud.cleanup();
  });

  async function put(to: S3Client, key: string, body: string | Buffer): Promise<void> {
    await to.send(new PutObjectCommand({ Bucket: jobs, Key: key, Body: body }));
  }

  async function tarMember(key: string, member: string): Promise<string> {
    const object = await objects.send(new GetObjectCommand({ Bucket: jobs, Key: key }));
    const archive = join(mkdtempSync(join(tmpdir(), "archive-")), "archive.tar.gz");
    writeFileSync(
      archive,
      await (object.Body as NonNullable<typeof object.Body>).transformToByteArray(),
    );
    return execFileSync("tar", ["-xOzf", archive, member], { encoding: "utf8" });
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

  function training(
    name: string,
    hyperparameters: Record<string, string> = {},
    overrides: Partial<CreateTrainingJobCommandInput> = {},
  ): CreateTrainingJobCommand {
    return new CreateTrainingJobCommand({
      ...trainingJob(name, {
        sagemaker_submit_directory: `s3://${jobs}/code/sourcedir.tar.gz`,
        ...hyperparameters,
      }),
      InputDataConfig: [
        {
          ChannelName: "train",
          DataSource: {
            S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${jobs}/data/train/` },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${jobs}/out` },
      ...overrides,
    });
  }

  function processing(
    name: string,
    data: string,
    overrides: Partial<CreateProcessingJobCommandInput> = {},
  ): CreateProcessingJobCommand {
    return new CreateProcessingJobCommand({
      ProcessingJobName: name,
      RoleArn: "arn:aws:iam::000000000000:role/modeldrop-sagemaker",
      AppSpecification: {
        ImageUri: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        ContainerEntrypoint: ["python3", "/opt/ml/processing/input/code/process.py"],
      },
      ProcessingInputs: [
        {
          InputName: "code",
          S3Input: {
            S3Uri: `s3://${jobs}/code/process.py`,
            LocalPath: "/opt/ml/processing/input/code",
            S3DataType: "S3Prefix",
            S3InputMode: "File",
          },
        },
        {
          InputName: "x",
          S3Input: {
            S3Uri: `s3://${jobs}/${data}`,
            LocalPath: "/opt/ml/processing/input/x",
            S3DataType: "S3Prefix",
            S3InputMode: "File",
          },
        },
      ],
      ProcessingOutputConfig: {
        Outputs: [
          {
            OutputName: "y",
            S3Output: {
              S3Uri: `s3://${jobs}/processed/${name}`,
              LocalPath: "/opt/ml/processing/output/y",
              S3UploadMode: "EndOfJob",
            },
          },
        ],
      },
      ProcessingResources: {
        ClusterConfig: { InstanceCount: 1, InstanceType: "ml.m5.large", VolumeSizeInGB: 10 },
      },
      ...overrides,
    });
  }

  async function trainingEnd(name: string): Promise<DescribeTrainingJobCommandOutput> {
    for (;;) {
      const job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      if (["Completed", "Failed", "Stopped"].includes(job.TrainingJobStatus ?? "")) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function processingEnd(name: string): Promise<DescribeProcessingJobCommandOutput> {
    for (;;) {
      const job = await client.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
      if (["Completed", "Failed", "Stopped"].includes(job.ProcessingJobStatus ?? "")) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("runs a training script with hard-coded /opt/ml paths and uploads its model", async () => {
    await client.send(training("byo-train", { epochs: "3", optimizer: '"adam"' }));

    const job = await trainingEnd("byo-train");

    expect(job.TrainingJobStatus).toBe("Completed");
    expect(await tarMember("out/byo-train/output/model.tar.gz", "./model.txt")).toBe(
      "a,b\n1,2\n3,4\n",
    );
  });

  it("uploads what the script left in /opt/ml/output/data as output.tar.gz", async () => {
    await trainingEnd("byo-train");

    expect(await tarMember("out/byo-train/output/output.tar.gz", "./notes.txt")).toBe(
      "trained on 3 lines",
    );
  });

  it("gives the script the environment and arguments the SageMaker training toolkit gives", async () => {
    await trainingEnd("byo-train");

    const lines = await logLines("/aws/sagemaker/TrainingJobs", "byo-train");
    const env = JSON.parse(lines.find((l) => l.startsWith("env "))?.slice(4) ?? "{}");
    const args = JSON.parse(lines.find((l) => l.startsWith("args "))?.slice(5) ?? "[]");

    expect(args).toEqual(["--epochs", "3", "--max_depth", "6", "--optimizer", "adam"]);
    expect(env).toMatchObject({
      SM_MODEL_DIR: "/opt/ml/model",
      SM_CHANNELS: '["train"]',
      SM_CHANNEL_TRAIN: "/opt/ml/input/data/train",
      SM_HPS: '{"epochs":3,"max_depth":6,"optimizer":"adam"}',
      SM_HP_EPOCHS: "3",
      SM_HP_OPTIMIZER: "adam",
      SM_HOSTS: '["algo-1"]',
      SM_CURRENT_HOST: "algo-1",
      SM_NUM_CPUS: String(cpus().length),
      SM_NUM_GPUS: expect.stringMatching(/^\d+$/),
      SM_OUTPUT_DIR: "/opt/ml/output",
      SM_OUTPUT_DATA_DIR: "/opt/ml/output/data",
      SM_LOG_LEVEL: "20",
      SM_MODULE_DIR: `s3://${jobs}/code/sourcedir.tar.gz`,
      SM_MODULE_NAME: "train",
      SM_USER_ENTRY_POINT: "train.py",
      SM_USER_ARGS: JSON.stringify(args),
      SM_INPUT_DIR: "/opt/ml/input",
      SM_INPUT_CONFIG_DIR: "/opt/ml/input/config",
      SM_NETWORK_INTERFACE_NAME: "eth0",
    });
    expect(JSON.parse(env.SM_RESOURCE_CONFIG)).toMatchObject({
      current_host: "algo-1",
      hosts: ["algo-1"],
      current_instance_type: "ml.m5.large",
    });
    expect(JSON.parse(env.SM_INPUT_DATA_CONFIG)).toEqual({
      train: {
        TrainingInputMode: "File",
        S3DistributionType: "FullyReplicated",
        RecordWrapperType: "None",
      },
    });
    expect(JSON.parse(env.SM_TRAINING_ENV)).toMatchObject({
      channel_input_dirs: { train: "/opt/ml/input/data/train" },
      current_host: "algo-1",
      hosts: ["algo-1"],
      hyperparameters: { epochs: 3, max_depth: 6, optimizer: "adam" },
      input_config_dir: "/opt/ml/input/config",
      input_dir: "/opt/ml/input",
      job_name: "byo-train",
      log_level: 20,
      model_dir: "/opt/ml/model",
      module_dir: `s3://${jobs}/code/sourcedir.tar.gz`,
      module_name: "train",
      network_interface_name: "eth0",
      num_cpus: cpus().length,
      output_data_dir: "/opt/ml/output/data",
      output_dir: "/opt/ml/output",
      resource_config: { current_host: "algo-1", hosts: ["algo-1"] },
      user_entry_point: "train.py",
    });
  });

  it("runs a processing script that reads /opt/ml/processing/input and writes /opt/ml/processing/output", async () => {
    await client.send(processing("byo-process", "data/first/"));

    const job = await processingEnd("byo-process");

    expect(job.ProcessingJobStatus).toBe("Completed");
    const seen = await objects.send(
      new GetObjectCommand({ Bucket: jobs, Key: "processed/byo-process/seen.json" }),
    );
    expect(JSON.parse((await seen.Body?.transformToString()) ?? "{}")).toEqual({
      job: "byo-process",
      host: "algo-1",
      inputs: ["a.csv"],
    });
  });

  it("runs two jobs at once, each seeing only its own /opt/ml", async () => {
    const hold = { Environment: { HOLD_SECONDS: "2" } };
    await client.send(processing("byo-first", "data/first/", hold));
    await client.send(processing("byo-second", "data/second/", hold));

    const [first, second] = [await processingEnd("byo-first"), await processingEnd("byo-second")];

    expect(Number(second.ProcessingStartTime)).toBeLessThan(Number(first.ProcessingEndTime));
    const seen = async (name: string) => {
      const object = await objects.send(
        new GetObjectCommand({ Bucket: jobs, Key: `processed/${name}/seen.json` }),
      );
      return JSON.parse((await object.Body?.transformToString()) ?? "{}").inputs;
    };
    expect(await seen("byo-first")).toEqual(["a.csv"]);
    expect(await seen("byo-second")).toEqual(["b.csv"]);
  });

  it("keeps the project's .venv, like all outside the job folder, read-only for the script", async () => {
    const venv = realpathSync(resolve(import.meta.dirname, "..", "..", ".venv"));
    const target = join(venv, `.write-probe-${Date.now()}`);
    try {
      await client.send(training("byo-escape", { mode: "escape", target }));

      const job = await trainingEnd("byo-escape");

      expect(job.TrainingJobStatus).toBe("Completed");
      expect(await logLines("/aws/sagemaker/TrainingJobs", "byo-escape")).toContain(
        "refused: Read-only file system",
      );
      expect(existsSync(target)).toBe(false);
    } finally {
      rmSync(target, { force: true });
    }
  });

  it("leaves no process behind when a job is stopped, not even one that left its process group", async () => {
    const marker = `modeldrop-orphan-${Date.now()}`;
    await client.send(training("byo-orphan", { mode: "orphan", marker }));
    for (;;) {
      const lines = await logLines("/aws/sagemaker/TrainingJobs", "byo-orphan").catch(() => []);
      if (lines.some((l) => l.startsWith("started a process"))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processesWith("time.sleep(600)", marker)).toHaveLength(1);

    await client.send(new StopTrainingJobCommand({ TrainingJobName: "byo-orphan" }));
    const job = await trainingEnd("byo-orphan");

    expect(job.TrainingJobStatus).toBe("Stopped");
    expect(await processesLeft(marker)).toEqual([]);
  });

  it("fails a job that asks for more than one instance instead of running one", async () => {
    await client.send(
      training(
        "byo-two-instances",
        {},
        {
          ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 2, VolumeSizeInGB: 10 },
        },
      ),
    );
    await client.send(
      processing("byo-two-processors", "data/first/", {
        ProcessingResources: {
          ClusterConfig: { InstanceCount: 2, InstanceType: "ml.m5.large", VolumeSizeInGB: 10 },
        },
      }),
    );

    const trained = await trainingEnd("byo-two-instances");
    const processed = await processingEnd("byo-two-processors");

    expect(trained.TrainingJobStatus).toBe("Failed");
    expect(trained.FailureReason).toContain("InstanceCount 2 needs AWS");
    expect(processed.ProcessingJobStatus).toBe("Failed");
    expect(processed.FailureReason).toContain("InstanceCount 2 needs AWS");
  });

  describe("where no namespace can be made (MODELDROP_NO_NAMESPACE=1)", () => {
    let fallback: Awaited<ReturnType<typeof startTestCloud>>;

    beforeAll(async () => {
      process.env.MODELDROP_NO_NAMESPACE = "1";
      try {
        fallback = await startTestCloud();
      } finally {
        delete process.env.MODELDROP_NO_NAMESPACE;
      }
    });

    afterAll(async () => {
      await fallback.cleanup();
    });

    it("still runs a job written against the SM_* variables, and says so in its log", async () => {
      const otherClient = new SageMakerClient(fallback.config);
      const otherObjects = new S3Client({ ...fallback.config, forcePathStyle: true });
      await otherObjects.send(new CreateBucketCommand({ Bucket: jobs }));
      await put(otherObjects, "code/portable.tar.gz", readFileSync(join(code, "portable.tar.gz")));
      await put(otherObjects, "data/train/rows.csv", "a,b\n5,6\n");

      await otherClient.send(
        training("portable-train", {
          sagemaker_program: "portable.py",
          sagemaker_submit_directory: `s3://${jobs}/code/portable.tar.gz`,
        }),
      );
      let job: DescribeTrainingJobCommandOutput;
      for (;;) {
        job = await otherClient.send(
          new DescribeTrainingJobCommand({ TrainingJobName: "portable-train" }),
        );
        if (["Completed", "Failed", "Stopped"].includes(job.TrainingJobStatus ?? "")) break;
        await new Promise((r) => setTimeout(r, 100));
      }

      expect(job.TrainingJobStatus).toBe("Completed");
      const model = await otherObjects.send(
        new GetObjectCommand({ Bucket: jobs, Key: "out/portable-train/output/model.tar.gz" }),
      );
      expect(model.ContentLength).toBeGreaterThan(0);
      const stream = await new CloudWatchLogsClient(fallback.config).send(
        new DescribeLogStreamsCommand({
          logGroupName: "/aws/sagemaker/TrainingJobs",
          logStreamNamePrefix: "portable-train/",
        }),
      );
      const events = await new CloudWatchLogsClient(fallback.config).send(
        new GetLogEventsCommand({
          logGroupName: "/aws/sagemaker/TrainingJobs",
          logStreamName: stream.logStreams?.[0]?.logStreamName,
          startFromHead: true,
        }),
      );
      expect(events.events?.[0]?.message).toContain(
        "no mount namespace for this job (MODELDROP_NO_NAMESPACE=1)",
      );
    });
  });
});

/** Live processes whose command line holds every one of `parts`. */
function processesWith(...parts: string[]): string[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
        const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return state !== "Z" && parts.every((part) => command.includes(part));
      } catch {
        return false; // gone already
      }
    });
}

/** The processes naming `marker` that are still there once the kernel had 3 s to end them. */
async function processesLeft(marker: string): Promise<string[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const found = processesWith(marker);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}
