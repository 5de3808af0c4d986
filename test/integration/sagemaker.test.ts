import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
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
