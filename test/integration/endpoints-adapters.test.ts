// The endpoints' two adapters on the local cloud: EndpointsStore over DynamoDB (generations,
// conditional updates, atomic invocation counts) and SageMakerHosting over SageMaker and
// sagemaker-runtime (a deployment made from a registered model's container, served, invoked,
// deleted twice over).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateModelCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointsStore } from "../../aws/endpoints-store.js";
import { SageMakerHosting } from "../../aws/hosting.js";
import type { EndpointRecord, EndpointState } from "../../core/endpoints.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";

const TABLE = "endpoints";
const BUCKET = "hosting";
const ROLE = "arn:aws:iam::000000000000:role/modeldrop-endpoints";
const IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3";
/** The registered version's model, as the pipeline's CreateModel state makes it. */
const REGISTERED = "md-churn-v1";

/** Rows come back doubled; rows without two features are the model code's error. */
const SERVE_PY = `
def model_fn(model_dir):
    return 2
def predict_fn(data, model):
    if data.shape[1] != 2:
        raise ValueError(f"expected 2 features, got {data.shape[1]}")
    return data * model
`;

let config: ClientConfig;
let cleanup: () => Promise<void>;
let folder: string;
let store: EndpointsStore;
let hosting: SageMakerHosting;
let sagemaker: SageMakerClient;

function tarGz(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(folder, "tar-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  execFileSync("tar", ["-czf", join(dir, "out.tar.gz"), "-C", dir, ...Object.keys(files)]);
  return readFileSync(join(dir, "out.tar.gz"));
}

function anEndpoint(fields: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    modelName: "churn",
    mode: "serverless",
    generation: 1,
    name: "md-ep-churn-serverless",
    status: "Creating",
    version: 1,
    settings: { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
    idleTimeoutMinutes: 60,
    configName: "md-ep-churn-serverless-g1-d1",
    deployments: 1,
    createdAt: "2026-11-02T10:00:00.000Z",
    createdBy: "ana",
    updatedAt: "2026-11-02T10:00:00.000Z",
    invocations: 0,
    servedSeconds: 0,
    bytesProcessed: 0,
    history: [{ at: "2026-11-02T10:00:00.000Z", event: "create-requested", version: 1 }],
    ...fields,
  };
}

async function settled(name: string): Promise<EndpointState> {
  for (;;) {
    const state = await hosting.describeEndpoint(name);
    if (!["Creating", "Updating", "Deleting"].includes(state.status)) return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "endpoints-adapters-"));
  ({ config, cleanup } = await startTestCloud({ stopGraceSeconds: 1 }));
  const db = new DynamoDBClient(config);
  await db.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "modelName", AttributeType: "S" },
        { AttributeName: "slot", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "modelName", KeyType: "HASH" },
        { AttributeName: "slot", KeyType: "RANGE" },
      ],
    }),
  );
  store = new EndpointsStore(
    DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } }),
    TABLE,
  );
  sagemaker = new SageMakerClient(config);
  hosting = new SageMakerHosting(sagemaker, new SageMakerRuntimeClient(config), ROLE);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: "code/sourcedir.tar.gz",
      Body: tarGz({ "serve.py": SERVE_PY }),
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: "models/churn/model.tar.gz",
      Body: tarGz({ "model.json": "{}" }),
    }),
  );
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: REGISTERED,
      ExecutionRoleArn: "arn:aws:iam::000000000000:role/modeldrop-sagemaker",
      PrimaryContainer: {
        Image: IMAGE,
        ModelDataUrl: `s3://${BUCKET}/models/churn/model.tar.gz`,
        Environment: {
          SAGEMAKER_PROGRAM: "serve.py",
          SAGEMAKER_SUBMIT_DIRECTORY: `s3://${BUCKET}/code/sourcedir.tar.gz`,
        },
      },
    }),
  );
}, 60_000);

afterAll(async () => {
  await cleanup?.();
  rmSync(folder, { recursive: true, force: true });
});

describe("the Endpoints table", () => {
  it("writes each generation once, and the current one is the newest generation of its mode", async () => {
    const first = anEndpoint({ status: "Deleted" });
    const second = anEndpoint({ generation: 2, createdAt: "2026-11-03T10:00:00.000Z" });
    const realtime = anEndpoint({
      mode: "realtime",
      name: "md-ep-churn-realtime",
      settings: { mode: "realtime", instanceType: "ml.m5.large", instanceCount: 1 },
      createdAt: "2026-11-01T10:00:00.000Z",
    });

    const created = [
      await store.create(first),
      await store.create(second),
      await store.create(realtime),
    ];
    const again = await store.create({ ...second, createdBy: "someone else" });

    expect(created).toEqual([true, true, true]);
    expect(again).toBe(false);
    expect(await store.current("churn", "serverless")).toEqual(second);
    expect(await store.current("churn", "realtime")).toEqual(realtime);
    expect(await store.current("nobody", "serverless")).toBeUndefined();
  });

  it("updates a generation only from the statuses given, removing the fields given as undefined", async () => {
    const key = { modelName: "churn", mode: "serverless", generation: 2 } as const;
    await store.update(key, { failureReason: "a rolled-back update" });

    const refused = await store.update(key, { status: "Deleting" }, ["InService"]);
    const written = await store.update(
      key,
      {
        status: "InService",
        inServiceAt: "2026-11-03T10:05:00.000Z",
        updating: undefined,
        failureReason: undefined,
      },
      ["Creating", "Updating"],
    );
    const missing = await store.update({ ...key, generation: 9 }, { status: "InService" });

    expect(refused).toBeUndefined();
    expect(written).toEqual({
      ...anEndpoint({ generation: 2, createdAt: "2026-11-03T10:00:00.000Z" }),
      status: "InService",
      inServiceAt: "2026-11-03T10:05:00.000Z",
    });
    expect(written).not.toHaveProperty("failureReason");
    expect(missing).toBeUndefined();
  });

  it("adds every invocation up, and lists every generation newest first", async () => {
    const key = { modelName: "churn", mode: "serverless", generation: 2 } as const;

    await Promise.all([
      store.recordInvocation(key, { at: "2026-11-03T11:00:00.000Z", seconds: 0.5, bytes: 100 }),
      store.recordInvocation(key, { at: "2026-11-03T11:00:00.000Z", seconds: 0.25, bytes: 50 }),
    ]);
    await store.recordInvocation({ ...key, generation: 9 }, { at: "x", seconds: 1, bytes: 1 });
    const listed = await store.list();

    expect(await store.current("churn", "serverless")).toMatchObject({
      invocations: 2,
      servedSeconds: 0.75,
      bytesProcessed: 150,
      lastInvokedAt: "2026-11-03T11:00:00.000Z",
    });
    expect(listed.map((r) => [r.mode, r.generation])).toEqual([
      ["serverless", 2],
      ["serverless", 1],
      ["realtime", 1],
    ]);
  });
});

describe("SageMaker hosting", () => {
  const deployment = "md-ep-churn-serverless-g1-d1";
  const endpoint = "md-ep-churn-serverless";

  it("deploys a registered model's container under the endpoints' role and brings the endpoint InService", async () => {
    const container = await hosting.container(REGISTERED);
    await hosting.createModel(deployment, container, { "modeldrop:model": "churn" });
    await hosting.createEndpointConfig(
      deployment,
      deployment,
      { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
      { "modeldrop:model": "churn" },
    );
    await hosting.createEndpoint(endpoint, deployment, { "modeldrop:model": "churn" });

    expect(container).toEqual({
      image: IMAGE,
      modelDataUrl: `s3://${BUCKET}/models/churn/model.tar.gz`,
      environment: {
        SAGEMAKER_PROGRAM: "serve.py",
        SAGEMAKER_SUBMIT_DIRECTORY: `s3://${BUCKET}/code/sourcedir.tar.gz`,
      },
    });
    expect(
      (await sagemaker.send(new DescribeModelCommand({ ModelName: deployment }))).ExecutionRoleArn,
    ).toBe(ROLE);
    expect(
      (await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: deployment })))
        .ProductionVariants,
    ).toEqual([
      {
        VariantName: "AllTraffic",
        ModelName: deployment,
        ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 },
      },
    ]);
    expect(await settled(endpoint)).toEqual({
      name: endpoint,
      status: "InService",
      configName: deployment,
      failureReason: undefined,
    });
  }, 60_000);

  it("answers the model's rows, the model code's error, and an endpoint SageMaker does not have", async () => {
    const rows = await hosting.invoke(
      endpoint,
      Buffer.from("1,2\n"),
      "text/csv",
      "application/json",
    );
    const refused = await hosting.invoke(
      endpoint,
      Buffer.from("1,2,3\n"),
      "text/csv",
      "application/json",
    );
    const unknown = await hosting.invoke(
      "md-ep-nobody",
      Buffer.from("1,2\n"),
      "text/csv",
      "application/json",
    );

    expect(rows).toMatchObject({ ok: true, contentType: "application/json" });
    expect(rows.ok && JSON.parse(rows.body.toString("utf8"))).toEqual([[2, 4]]);
    expect(refused).toMatchObject({ ok: false, status: 500 });
    expect(!refused.ok && refused.message).toMatch(/expected 2 features, got 3/);
    expect(unknown).toEqual({
      ok: false,
      status: undefined,
      message: expect.stringMatching(/^Endpoint md-ep-nobody of account \d+ not found/),
    });
  });

  it("deletes the endpoint and its deployment, and a second deletion of either finds nothing to do", async () => {
    await hosting.deleteEndpoint(endpoint);
    const deleted = await settled(endpoint);
    await hosting.deleteEndpoint(endpoint);
    await hosting.deleteDeployment(deployment);
    await hosting.deleteDeployment(deployment);

    expect(deleted).toEqual({ name: endpoint, status: "Deleted" });
    await expect(
      sagemaker.send(new DescribeModelCommand({ ModelName: deployment })),
    ).rejects.toThrow(/Could not find model/);
    await expect(
      sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: deployment })),
    ).rejects.toThrow(/Could not find endpoint configuration/);
  }, 30_000);
});
