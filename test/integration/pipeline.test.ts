// The training pipeline end to end on the local cloud: the packaged stack, the real handlers,
// the real state machine and the real ML jobs, driven only by dropping files into the inbox.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../core/run-record.js";
import { runIdForDrop } from "../../core/runs.js";
import type { LocalCloud } from "../../local/cloud.js";
import { startPipelineCloud } from "./pipeline-stack.js";

let cloud: LocalCloud;
let s3: S3Client;
let bucket: string;
let db: DynamoDBDocumentClient;
let cleanup: () => Promise<void>;
let slack: Server;
const slackMessages: { text: string }[] = [];

/** A binary task two features separate well: `churned` is yes when usage is low and tickets high. */
function churnCsv(rows: number, seed = 1): string {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = ["customer_id,monthly_usage,support_tickets,plan,churned"];
  for (let i = 0; i < rows; i++) {
    const usage = Math.round(random() * 100);
    const tickets = Math.floor(random() * 8);
    const plan = ["basic", "pro", "team"][i % 3];
    const churned = usage < 40 && tickets > 2 ? "yes" : random() < 0.08 ? "yes" : "no";
    lines.push(`C${1000 + i},${usage},${tickets},${plan},${churned}`);
  }
  return `${lines.join("\n")}\n`;
}

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
      return (await run(id)) ?? current;
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
  const started = await startPipelineCloud();
  ({ cloud, s3, bucket, cleanup } = started);
  db = DynamoDBDocumentClient.from(new DynamoDBClient(started.config));
  const hook = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`;
  await new SSMClient(started.config).send(
    new PutParameterCommand({
      Name: "/modeldrop/slack-webhook",
      Value: hook,
      Type: "SecureString",
    }),
  );
}, 120_000);

afterAll(async () => {
  await cleanup();
  await new Promise<void>((resolve) => slack.close(() => resolve()));
});

describe("the training pipeline on the local cloud", () => {
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
    expect(Object.keys(done.steps ?? {})).toEqual(["preprocess", "train", "evaluate", "transform"]);
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
    expect(await report.Body?.transformToString()).toContain("SUCCEEDED");

    const mails = emails().filter((m) => m.includes(runId));
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain("Subject: modeldrop: churn data.csv model ready - churn-data v1");
    expect(slackMessages.filter((m) => m.text.includes("churn data.csv"))).toHaveLength(1);
  });
});
