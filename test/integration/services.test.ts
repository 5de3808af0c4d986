import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";
import { smtpServer } from "./smtp-server.js";

let cloud: LocalCloud;
let config: ClientConfig;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ cloud, config, cleanup } = await startTestCloud());
});

afterAll(async () => {
  await cleanup();
});

describe("local DynamoDB", () => {
  it("creates a table with an index, writes conditionally and queries the index", async () => {
    const db = new DynamoDBClient(config);
    await db.send(
      new CreateTableCommand({
        TableName: "runs",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "id", AttributeType: "S" },
          { AttributeName: "status", AttributeType: "S" },
          { AttributeName: "createdAt", AttributeType: "S" },
        ],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [
          {
            IndexName: "byStatus",
            KeySchema: [
              { AttributeName: "status", KeyType: "HASH" },
              { AttributeName: "createdAt", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
    const put = (id: string) =>
      db.send(
        new PutItemCommand({
          TableName: "runs",
          Item: { id: { S: id }, status: { S: "QUEUED" }, createdAt: { S: `2026-01-0${id}` } },
          ConditionExpression: "attribute_not_exists(id)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
    await put("1");
    await put("2");

    const duplicate = await put("1").catch((error: unknown) => error);
    const queried = await db.send(
      new QueryCommand({
        TableName: "runs",
        IndexName: "byStatus",
        KeyConditionExpression: "#s = :s",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":s": { S: "QUEUED" } },
        ScanIndexForward: false,
      }),
    );

    expect(duplicate).toMatchObject({
      name: "ConditionalCheckFailedException",
      Item: { id: { S: "1" }, status: { S: "QUEUED" } },
    });
    expect(queried.Items?.map((i) => i.id?.S)).toEqual(["2", "1"]);
  });

  it("returns the stored item when an update condition fails and the caller asks for it", async () => {
    const db = new DynamoDBClient(config);
    const failed = await db
      .send(
        new UpdateItemCommand({
          TableName: "runs",
          Key: { id: { S: "1" } },
          UpdateExpression: "SET #s = :running",
          ConditionExpression: "#s = :succeeded",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: {
            ":running": { S: "RUNNING" },
            ":succeeded": { S: "SUCCEEDED" },
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      )
      .catch((error: unknown) => error);
    const stored = await db.send(
      new GetItemCommand({ TableName: "runs", Key: { id: { S: "1" } } }),
    );

    expect(failed).toMatchObject({
      name: "ConditionalCheckFailedException",
      Item: { status: { S: "QUEUED" } },
    });
    expect(stored.Item?.status?.S).toBe("QUEUED");
  });
});

describe("local DynamoDB gaps", () => {
  it("refuses an operation the emulator lacks by name, not as an unknown error", async () => {
    const transaction = new DynamoDBClient(config).send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: "runs", Item: { id: { S: "x" } } } }],
      }),
    );

    await expect(transaction).rejects.toMatchObject({
      name: "UnknownOperationException",
      message: expect.stringContaining("TransactWriteItems"),
    });
  });
});

describe("local SSM Parameter Store", () => {
  it("returns a SecureString in clear only with decryption and refuses to overwrite silently", async () => {
    const ssm = new SSMClient(config);
    await ssm.send(
      new PutParameterCommand({
        Name: "/modeldrop/slack-webhook",
        Value: "https://hooks.example/secret",
        Type: "SecureString",
      }),
    );

    const clear = await ssm.send(
      new GetParameterCommand({ Name: "/modeldrop/slack-webhook", WithDecryption: true }),
    );
    const sealed = await ssm.send(new GetParameterCommand({ Name: "/modeldrop/slack-webhook" }));
    const again = ssm.send(
      new PutParameterCommand({
        Name: "/modeldrop/slack-webhook",
        Value: "other",
        Type: "SecureString",
      }),
    );

    expect(clear.Parameter?.Value).toBe("https://hooks.example/secret");
    expect(sealed.Parameter?.Value).not.toContain("hooks.example");
    await expect(again).rejects.toMatchObject({ name: "ParameterAlreadyExists" });
    expect(readFileSync(join(cloud.stateDir, "ssm", "parameters.json"), "utf8")).not.toContain(
      "hooks.example",
    );
    await expect(ssm.send(new GetParameterCommand({ Name: "/missing" }))).rejects.toMatchObject({
      name: "ParameterNotFound",
    });
  });
});

describe("local SNS", () => {
  it("writes a published notice to the outbox as an email and refuses a subject over 100 characters", async () => {
    const sns = new SNSClient(config);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "notices" }));
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: "email", Endpoint: "ml-team@example.com" }),
    );

    await sns.send(
      new PublishCommand({
        TopicArn,
        Subject: "modeldrop: run succeeded",
        Message: "accuracy 0.93",
      }),
    );
    const tooLong = sns.send(
      new PublishCommand({ TopicArn, Subject: "x".repeat(101), Message: "m" }),
    );

    await expect(tooLong).rejects.toMatchObject({ name: "InvalidParameterException" });
    // Publish answers once the message is accepted; delivery follows in the background.
    await cloud.sns.settle();
    const outbox = join(cloud.stateDir, "outbox");
    const emails = readdirSync(outbox).map((f) => readFileSync(join(outbox, f), "utf8"));
    expect(emails).toHaveLength(1);
    expect(emails[0]).toContain("To: ml-team@example.com");
    expect(emails[0]).toContain("Subject: modeldrop: run succeeded");
    expect(emails[0]).toContain("accuracy 0.93");
  });
});

describe("local SNS over SMTP", () => {
  it("also sends the email through the SMTP server named by MODELDROP_SMTP_URL", async () => {
    const { port, received, close } = await smtpServer();
    process.env.MODELDROP_SMTP_URL = `smtp://127.0.0.1:${port}`;
    process.env.MODELDROP_SMTP_FROM = "modeldrop <modeldrop@example.com>";
    try {
      const sns = new SNSClient(config);
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "smtp-notices" }));
      await sns.send(
        new SubscribeCommand({ TopicArn, Protocol: "email", Endpoint: "ops@example.com" }),
      );
      await sns.send(
        new PublishCommand({ TopicArn, Subject: "modeldrop: run failed", Message: "see the log" }),
      );
      await cloud.sns.settle();
    } finally {
      delete process.env.MODELDROP_SMTP_URL;
      delete process.env.MODELDROP_SMTP_FROM;
      await close();
    }

    expect(received).toHaveLength(1);
    expect(received[0]?.to).toEqual(["ops@example.com"]);
    expect(received[0]?.data).toContain("From: modeldrop <modeldrop@example.com>");
    expect(received[0]?.data).toContain("Subject: modeldrop: run failed");
    expect(received[0]?.data).toContain("see the log");
  });
});

describe("local CloudWatch Logs", () => {
  it("serves job logs written in-process by group and stream, forward and filtered", async () => {
    const logs = new CloudWatchLogsClient(config);
    cloud.logs.append(
      "/aws/sagemaker/TrainingJobs",
      "job-1/algo-1-1700000000",
      "epoch 1 loss 0.5",
      1000,
    );
    cloud.logs.append(
      "/aws/sagemaker/TrainingJobs",
      "job-1/algo-1-1700000000",
      "epoch 2 loss 0.3",
      2000,
    );

    const first = await logs.send(
      new GetLogEventsCommand({
        logGroupName: "/aws/sagemaker/TrainingJobs",
        logStreamName: "job-1/algo-1-1700000000",
        startFromHead: true,
        limit: 1,
      }),
    );
    const rest = await logs.send(
      new GetLogEventsCommand({
        logGroupName: "/aws/sagemaker/TrainingJobs",
        logStreamName: "job-1/algo-1-1700000000",
        nextToken: first.nextForwardToken,
      }),
    );
    const filtered = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: "/aws/sagemaker/TrainingJobs",
        logStreamNamePrefix: "job-1/",
        filterPattern: '"epoch 2"',
      }),
    );

    expect(first.events?.map((e) => e.message)).toEqual(["epoch 1 loss 0.5"]);
    expect(rest.events?.map((e) => e.message)).toEqual(["epoch 2 loss 0.3"]);
    expect(filtered.events?.map((e) => e.message)).toEqual(["epoch 2 loss 0.3"]);
    await expect(
      logs.send(new GetLogEventsCommand({ logGroupName: "/nope", logStreamName: "x" })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});
