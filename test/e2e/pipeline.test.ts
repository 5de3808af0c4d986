// The training pipeline end to end on the local cloud: the packaged stack, the real handlers,
// the real state machine and the real ML jobs, driven only by dropping files into the inbox.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ListExecutionsCommand, SFNClient, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EndpointView, Invocation } from "../../core/api.js";
import { runIdForDrop } from "../../core/run-ids.js";
import type { Run } from "../../core/run-record.js";
import type { LocalCloud } from "../../local/cloud.js";
import { churnCsv } from "../integration/datasets.js";
import { type ClientConfig, startPipelineCloud } from "../integration/pipeline-stack.js";
import { objectCreatedEvent } from "../unit/events.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = join(ROOT, ".venv", "bin", "python");
let cloud: LocalCloud;
let config: ClientConfig;
let s3: S3Client;
let bucket: string;
let db: DynamoDBDocumentClient;
let cleanup: () => Promise<void>;
let token: string;
let slack: Server;
const slackMessages: { text: string }[] = [];

async function drop(key: string, body: string | Buffer, metadata?: Record<string, string>) {
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(metadata ? { Metadata: metadata } : {}),
    }),
  );
  return runIdForDrop(bucket, key, put.VersionId ?? "null");
}

async function run(id: string): Promise<Run | undefined> {
  const table = cloud.stack?.outputs.RunsTableName;
  const found = await db.send(new GetCommand({ TableName: table, Key: { id } }));
  return found.Item as Run | undefined;
}

async function finished(id: string, timeoutMs = 120_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await run(id);
    // Ended, noticed, and its execution (which publishes the notice) no longer running.
    if (
      current?.noticeSentAt &&
      ["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"].includes(current.status) &&
      (!current.executionArn ||
        cloud.stepFunctions.describe(current.executionArn).status !== "RUNNING")
    ) {
      await cloud.events.settle();
      // SNS answers Publish before it delivers: wait for the email and the Slack notifier too.
      await cloud.sns.settle();
      return (await run(id)) ?? current;
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A job's status, or undefined while the state machine has not created it yet. */
function jobStatus(kind: "Training" | "Processing" | "Transform", name: string) {
  try {
    return cloud.sagemaker.status(kind, name);
  } catch {
    return undefined;
  }
}

/** A call of the REST API with the stack's token; the answer's status and JSON body. */
async function api(method: string, path: string, body?: Buffer | object, type?: string) {
  const response = await fetch(`${cloud.apiEndpoint}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": type ?? "application/json" }),
    },
    ...(body === undefined
      ? {}
      : { body: Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as unknown };
}

function emails(): string[] {
  const outbox = join(cloud.stateDir, "outbox");
  if (!existsSync(outbox)) return [];
  return readdirSync(outbox).map((name) => readFileSync(join(outbox, name), "utf8"));
}

beforeAll(async () => {
  slack = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      slackMessages.push(JSON.parse(body));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, "127.0.0.1", resolve));
  const started = await startPipelineCloud({}, inject("packagedStack"));
  ({ cloud, s3, bucket, cleanup, config, token } = started);
  db = DynamoDBDocumentClient.from(new DynamoDBClient(started.config));
  const hook = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`;
  await new SSMClient(started.config).send(
    new PutParameterCommand({
      Name: cloud.stack?.outputs.SlackWebhookParameterName,
      Value: hook,
      Type: "SecureString",
    }),
  );
}, 120_000);

afterAll(async () => {
  await cleanup();
  await new Promise<void>((resolve) => slack.close(() => resolve()));
});

describe("the training pipeline on the local cloud", { timeout: 180_000 }, () => {
  it("turns a CSV drop into a registered model, predictions, a report and exactly one notice", async () => {
    const runId = await drop("inbox/churn data.csv", churnCsv(400));

    const done = await finished(runId);

    expect({ status: done.status, failure: done.failure }).toEqual({
      status: "SUCCEEDED",
      failure: undefined,
    });
    expect(done.model).toMatchObject({ name: "churn-data", version: 1, approval: "Approved" });
    expect(done.gate).toMatchObject({ metric: "roc_auc", passed: true });
    expect(done.metrics?.roc_auc).toBeGreaterThan(0.8);
    const candidates = ["train-xgboost", "train-lightgbm", "train-extra-trees", "train-linear"];
    expect(Object.keys(done.steps ?? {}).sort()).toEqual(
      ["preprocess", ...candidates, "select", "evaluate", "transform"].sort(),
    );
    // the search: every candidate compared on validation, the winner named with its reason
    expect(
      done.search?.candidates.map((c) => `train-${c.algorithm.replace("_", "-")}`).sort(),
    ).toEqual([...candidates].sort());
    expect(done.search?.candidates.every((c) => c.method === "5-fold cross-validation")).toBe(true);
    expect(done.search?.winner).toBe(done.lineage?.algorithm);
    // the cost counts every candidate's billable time
    expect(done.cost?.steps.map((s) => s.step)).toEqual(expect.arrayContaining(candidates));
    expect(done.cost?.totalUsd).toBeGreaterThan(0);
    expect(done.lineage?.codeSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.lineage?.libraries).toHaveProperty("xgboost");

    const predictions = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `runs/${runId}/predictions/test.csv.out` }),
    );
    const lines = ((await predictions.Body?.transformToString()) ?? "").trim().split("\n");
    expect(lines).toHaveLength(60);
    expect(JSON.parse(lines[0] ?? "{}")).toHaveProperty("prediction");
    const report = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `runs/${runId}/report/index.html` }),
    );
    const page = (await report.Body?.transformToString()) ?? "";
    expect(page).toContain("SUCCEEDED");
    expect(page).toContain(`Chosen: ${done.search?.winner}.`);

    const mails = emails().filter((m) => m.includes(runId));
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain("Subject: modeldrop: churn data.csv model ready - churn-data v1");
    expect(slackMessages.filter((m) => m.text.includes("churn data.csv"))).toHaveLength(1);
  });

  it("trains ResNet-18 on a zip of images and batch-predicts the test images", async () => {
    const zip = join(cloud.stateDir, "digits.zip");
    execFileSync(PYTHON, [join(ROOT, "test", "fixtures", "digits_zip.py"), zip, "20"]);
    const options = { hyperparameters: { epochs: 2, image_size: 32, batch_size: 8 } };
    const runId = await drop("inbox/digits.zip", readFileSync(zip), {
      "modeldrop-options": JSON.stringify(options),
    });

    const done = await finished(runId);

    expect({ status: done.status, failure: done.failure }).toMatchObject({ failure: undefined });
    expect(["SUCCEEDED", "BELOW_THRESHOLD"]).toContain(done.status);
    expect(done.lineage?.algorithm).toBe("resnet18");
    expect(done.steps?.train?.instanceType).toBe("ml.g5.xlarge");
    expect(done.metrics).toHaveProperty("accuracy");

    // Served on an endpoint, the model takes one image and answers with its class.
    const model = String(done.model?.name);
    const version = Number(done.model?.version);
    if (done.model?.approval !== "Approved")
      await api("POST", `/models/${model}/versions/${version}/approve`, {});
    const created = await api("POST", `/models/${model}/endpoints`, { version });
    const serving = await until(async () => {
      const endpoint = EndpointView.parse(
        (await api("GET", `/models/${model}/endpoints/serverless`)).body,
      );
      return endpoint.status === "Creating" ? undefined : endpoint;
    }, 120_000);
    const png = execFileSync(PYTHON, [
      "-c",
      "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('one/0.png'))",
      zip,
    ]);
    const answer = await api("POST", `/models/${model}/invoke`, png, "image/png");
    await api("DELETE", `/models/${model}/endpoints/serverless`);

    expect(created.status).toBe(202);
    expect(serving).toMatchObject({ status: "InService", version });
    expect(answer.status).toBe(200);
    const { predictions } = Invocation.parse(answer.body);
    expect(predictions).toHaveLength(1);
    expect(predictions?.[0]).toMatchObject({
      probabilities: { one: expect.any(Number), zero: expect.any(Number) },
    });
  });

  it("fails a run whose dataset preprocessing rejects, naming the step and the job's own reason", async () => {
    const runId = await drop("inbox/tiny.csv", "a,b,label\n1,2,x\n3,4,y\n");

    const done = await finished(runId);

    expect(done.status).toBe("FAILED");
    expect(done.failure).toMatchObject({
      step: "preprocess",
      log: { group: "/aws/sagemaker/ProcessingJobs", streamPrefix: `md-${runId}-preprocess/` },
    });
    expect(done.failure?.reason).toMatch(/rows/);
    const mails = emails().filter((m) => m.includes(runId));
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain("Subject: modeldrop: tiny.csv failed at preprocess");
    expect(mails[0]).toContain("Failed step: preprocess");
  });

  it("records a model below its threshold as BELOW_THRESHOLD and does not approve it", async () => {
    const options = { metric: "accuracy", threshold: 0.999 };
    const runId = await drop("inbox/strict.csv", churnCsv(300, 7), {
      "modeldrop-options": JSON.stringify(options),
    });

    const done = await finished(runId);

    expect(done.status).toBe("BELOW_THRESHOLD");
    expect(done.gate).toMatchObject({ metric: "accuracy", threshold: 0.999, passed: false });
    expect(done.model?.version).toBeUndefined();
    expect(emails().filter((m) => m.includes(runId))).toHaveLength(1);
  });

  it("refuses an unreadable format and invalid options at intake, with one notice each", async () => {
    const xlsx = await drop("inbox/budget.xlsx", "not a table");
    const badOptions = await drop("inbox/opts.csv", churnCsv(50), {
      "modeldrop-options": JSON.stringify({ threshold: "high" }),
    });

    const [format, options] = [await finished(xlsx), await finished(badOptions)];

    expect(format).toMatchObject({
      status: "FAILED",
      failure: { step: "intake", error: "UnsupportedFormat" },
    });
    expect(options).toMatchObject({
      status: "FAILED",
      failure: { step: "intake", error: "InvalidOptions" },
    });
    expect(options.failure?.reason).toContain("threshold");
    expect(emails().filter((m) => m.includes(xlsx) || m.includes(badOptions))).toHaveLength(2);
  });

  it("treats a redelivered event as the same run: no second execution, no second notice", async () => {
    const key = "inbox/again.csv";
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: "a,b\n1,2\n" }),
    );
    const runId = runIdForDrop(bucket, key, put.VersionId ?? "null");
    await finished(runId);
    // The event as EventBridge delivers it again (the same shape and the same object version).
    const event = objectCreatedEvent(bucket, key, {
      size: 8,
      ...(put.VersionId ? { versionId: put.VersionId } : {}),
    });

    const again = await cloud.functions.invoke("modeldrop-dev-onUpload", event);
    await cloud.events.settle();

    expect(again.payload).toEqual({ outcome: "started", runId });
    const executions = await new SFNClient(config).send(
      new ListExecutionsCommand({ stateMachineArn: cloud.stack?.outputs.PipelineArn }),
    );
    expect(executions.executions?.filter((e) => e.name === runId)).toHaveLength(1);
    expect(emails().filter((m) => m.includes(runId))).toHaveLength(1);
  });

  it("runs ten drops at once as ten runs, each ending with one notice", async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `inbox/batch/part-${i}.csv`);
    const runIds = await Promise.all(keys.map((key) => drop(key, "x,y\n1,2\n")));

    const ended = await Promise.all(runIds.map((id) => finished(id, 240_000)));

    expect(new Set(runIds).size).toBe(10);
    expect(ended.map((r) => r.status)).toEqual(Array(10).fill("FAILED"));
    for (const id of runIds) expect(emails().filter((m) => m.includes(id))).toHaveLength(1);
  }, 300_000);

  it("stops a run during training: the job is stopped, the run is STOPPED, one notice", async () => {
    const options = {
      algorithm: "xgboost",
      hyperparameters: { num_round: 5000, early_stopping_rounds: 1000 },
    };
    const runId = await drop("inbox/long.csv", churnCsv(3000, 3), {
      "modeldrop-options": JSON.stringify(options),
    });
    const training = await until(async () => {
      const current = await run(runId);
      if (current?.step !== "train" || !current.executionArn) return undefined;
      return jobStatus("Training", `md-${runId}-train`) === "InProgress" ? current : undefined;
    });

    await new SFNClient(config).send(
      new StopExecutionCommand({ executionArn: training.executionArn }),
    );
    const done = await finished(runId);

    expect(done.status).toBe("STOPPED");
    // SageMaker's way down: InProgress, Stopping while the job's processes end, then Stopped.
    const job = await until(() => {
      const status = cloud.sagemaker.status("Training", `md-${runId}-train`);
      return status === "InProgress" || status === "Stopping" ? undefined : status;
    });
    expect(job).toBe("Stopped");
    const notices = emails().filter((m) => m.includes(runId));
    expect(notices).toHaveLength(1);
    // A stopped run still gets its report (of what its jobs left), and the notice points at it.
    const report = `s3://${bucket}/runs/${runId}/report/index.html`;
    expect(done.report).toBe(report);
    expect(notices[0]).toContain(`Report: ${report}`);
    const page = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `runs/${runId}/report/index.html` }),
    );
    expect(await page.Body?.transformToString()).toContain("STOPPED");
  });

  it("fails a run whose every candidate runs past its maximum runtime, saying so for each", async () => {
    const options = {
      hyperparameters: { num_round: 5000, early_stopping_rounds: 1000 },
      maxRuntimeSeconds: { training: 1 },
    };
    const runId = await drop("inbox/slow.csv", churnCsv(3000, 5), {
      "modeldrop-options": JSON.stringify(options),
    });

    const done = await finished(runId);

    expect(done.status).toBe("FAILED");
    expect(done.failure?.step).toBe("train-xgboost");
    expect(done.failure?.reason).toMatch(
      /^every candidate failed: train-xgboost: .*MaxRuntimeExceeded/,
    );
    expect(done.failure?.reason).toContain("train-linear: ");
    expect(done.failure?.log?.streamPrefix).toBe(`md-${runId}-train-xgboost/`);
  });
});
