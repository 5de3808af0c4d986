// modeldrop's own jobs through the local SageMaker API, as the state machine will start them:
// preprocess as a processing job (bootstrap entrypoint + code archive), train as a script-mode
// training job, then CreateModel and a batch transform job with SageMaker's split options.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateModelCommand,
  CreateProcessingJobCommand,
  CreateTrainingJobCommand,
  CreateTransformJobCommand,
  DescribeModelCommand,
  DescribeProcessingJobCommand,
  DescribeTrainingJobCommand,
  DescribeTransformJobCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientConfig, startTestCloud } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311";
const ROLE = "arn:aws:iam::000000000000:role/modeldrop-sagemaker";
const bucket = "ml-jobs";
const ROWS = 240;

let config: ClientConfig;
let cleanup: () => Promise<void>;
let sagemaker: SageMakerClient;
let s3: S3Client;

/** Two informative features, one noise column, a string label: separable enough to learn. */
function dataset(): string {
  const lines = ["width,height,noise,species"];
  for (let i = 0; i < ROWS; i++) {
    const big = i % 2 === 0;
    const width = (big ? 5 : 2) + ((i * 7) % 10) / 10;
    const height = (big ? 3 : 1) + ((i * 3) % 10) / 10;
    lines.push(
      `${width.toFixed(1)},${height.toFixed(1)},${(i * 13) % 17},${big ? "large" : "small"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function put(key: string, body: string | Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function text(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString()) ?? "";
}

async function until<T extends object>(describe: () => Promise<T>, field: keyof T): Promise<T> {
  for (;;) {
    const job = await describe();
    if (!["InProgress", "Stopping"].includes(String(job[field]))) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function preprocessJob(name: string, dataKey: string) {
  return new CreateProcessingJobCommand({
    ProcessingJobName: name,
    RoleArn: ROLE,
    AppSpecification: {
      ImageUri: IMAGE,
      ContainerEntrypoint: [
        "python3",
        "/opt/ml/processing/input/entrypoint/bootstrap.py",
        "--code",
        "/opt/ml/processing/input/code/sourcedir.tar.gz",
        "--job",
        "preprocess",
      ],
    },
    ProcessingInputs: [
      {
        InputName: "entrypoint",
        S3Input: {
          S3Uri: `s3://${bucket}/code/bootstrap.py`,
          LocalPath: "/opt/ml/processing/input/entrypoint",
          S3DataType: "S3Prefix",
          S3InputMode: "File",
        },
      },
      {
        InputName: "code",
        S3Input: {
          S3Uri: `s3://${bucket}/code/sourcedir.tar.gz`,
          LocalPath: "/opt/ml/processing/input/code",
          S3DataType: "S3Prefix",
          S3InputMode: "File",
        },
      },
      {
        InputName: "data",
        S3Input: {
          S3Uri: `s3://${bucket}/${dataKey}`,
          LocalPath: "/opt/ml/processing/input/data",
          S3DataType: "S3Prefix",
          S3InputMode: "File",
        },
      },
    ],
    ProcessingOutputConfig: {
      Outputs: [
        {
          OutputName: "processed",
          S3Output: {
            S3Uri: `s3://${bucket}/runs/${name}/processed`,
            LocalPath: "/opt/ml/processing/output/processed",
            S3UploadMode: "EndOfJob",
          },
        },
      ],
    },
    ProcessingResources: {
      ClusterConfig: { InstanceCount: 1, InstanceType: "ml.m5.large", VolumeSizeInGB: 10 },
    },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });
}

beforeAll(async () => {
  ({ config, cleanup } = await startTestCloud());
  sagemaker = new SageMakerClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const archive = join(mkdtempSync(join(tmpdir(), "sourcedir-")), "sourcedir.tar.gz");
  execFileSync(resolve(ROOT, ".venv", "bin", "python"), [
    "-m",
    "modeldrop_ml.sourcedir",
    "--out",
    archive,
  ]);
  await put("code/sourcedir.tar.gz", readFileSync(archive));
  await put("code/bootstrap.py", readFileSync(resolve(ROOT, "ml", "bootstrap.py")));
  await put("inbox/plants.csv", dataset());
  await put("inbox/one-column.csv", "only\n1\n2\n3\n");
});

afterAll(async () => {
  await cleanup();
});

describe("modeldrop's jobs on the local SageMaker", () => {
  it("preprocesses, trains, registers a model and batch-predicts every row", async () => {
    await sagemaker.send(preprocessJob("prep-plants", "inbox/plants.csv"));
    const prep = await until(
      () => sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: "prep-plants" })),
      "ProcessingJobStatus",
    );
    expect([prep.ProcessingJobStatus, prep.ExitMessage]).toEqual(["Completed", undefined]);
    const profile = JSON.parse(await text("runs/prep-plants/processed/profile.json"));
    expect(profile.target).toMatchObject({ name: "species", task: "binary" });

    await sagemaker.send(
      new CreateTrainingJobCommand({
        TrainingJobName: "train-plants",
        RoleArn: ROLE,
        AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: "File" },
        HyperParameters: {
          sagemaker_program: "train.py",
          sagemaker_submit_directory: `s3://${bucket}/code/sourcedir.tar.gz`,
          num_round: "20",
        },
        InputDataConfig: ["train", "validation"].map((channel) => ({
          ChannelName: channel,
          DataSource: {
            S3DataSource: {
              S3DataType: "S3Prefix",
              S3Uri: `s3://${bucket}/runs/prep-plants/processed/${channel}/`,
            },
          },
        })),
        OutputDataConfig: { S3OutputPath: `s3://${bucket}/runs/plants/jobs` },
        ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 10 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }),
    );
    const train = await until(
      () => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: "train-plants" })),
      "TrainingJobStatus",
    );
    expect([train.TrainingJobStatus, train.FailureReason]).toEqual(["Completed", undefined]);
    expect(train.ModelArtifacts?.S3ModelArtifacts).toBe(
      `s3://${bucket}/runs/plants/jobs/train-plants/output/model.tar.gz`,
    );
    expect(train.BillableTimeInSeconds).toBeGreaterThanOrEqual(1);

    await sagemaker.send(
      new CreateModelCommand({
        ModelName: "plants-model",
        ExecutionRoleArn: ROLE,
        PrimaryContainer: {
          Image: IMAGE.replace("training", "inference"),
          ModelDataUrl: train.ModelArtifacts?.S3ModelArtifacts,
          Environment: {
            SAGEMAKER_PROGRAM: "inference.py",
            SAGEMAKER_SUBMIT_DIRECTORY: `s3://${bucket}/code/sourcedir.tar.gz`,
          },
        },
      }),
    );
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: "plants-model" }));
    expect(model.ModelArn).toContain(":model/plants-model");

    const inputs = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "runs/prep-plants/processed/transform/" }),
    );
    const inputKey = inputs.Contents?.[0]?.Key ?? "";
    const inputRows = (await text(inputKey)).trim().split("\n");
    await sagemaker.send(
      new CreateTransformJobCommand({
        TransformJobName: "predict-plants",
        ModelName: "plants-model",
        BatchStrategy: "MultiRecord",
        MaxPayloadInMB: 1,
        TransformInput: {
          DataSource: {
            S3DataSource: { S3DataType: "S3Prefix", S3Uri: `s3://${bucket}/${inputKey}` },
          },
          ContentType: "text/csv",
          SplitType: "Line",
        },
        TransformOutput: {
          S3OutputPath: `s3://${bucket}/runs/plants/predictions`,
          Accept: "application/jsonlines",
          AssembleWith: "Line",
        },
        TransformResources: { InstanceType: "ml.m5.large", InstanceCount: 1 },
      }),
    );
    const transform = await until(
      () => sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: "predict-plants" })),
      "TransformJobStatus",
    );
    expect([transform.TransformJobStatus, transform.FailureReason]).toEqual([
      "Completed",
      undefined,
    ]);
    const name = inputKey.split("/").pop();
    const predictions = (await text(`runs/plants/predictions/${name}.out`))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const dataRows = inputRows.filter((row) => !row.startsWith("width"));
    expect(predictions).toHaveLength(dataRows.length);
    expect(new Set(predictions.map((p) => p.prediction))).toEqual(new Set(["large", "small"]));
  });

  it("fails a preprocessing job on an unusable dataset with the reason as ExitMessage", async () => {
    await sagemaker.send(preprocessJob("prep-one-column", "inbox/one-column.csv"));
    const prep = await until(
      () =>
        sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: "prep-one-column" })),
      "ProcessingJobStatus",
    );

    expect(prep.ProcessingJobStatus).toBe("Failed");
    expect(prep.FailureReason).toMatch(/^AlgorithmError/);
    expect(prep.ExitMessage).toMatch(/column/i);
  });
});
