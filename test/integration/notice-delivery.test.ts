// Local SNS delivers in the background like AWS: Publish answers once the message is on disk,
// each subscription is retried with backoff, every attempt is written to the topic's
// delivery-status log, and a delivery cut short by a stop is resumed by the next start.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { noticeProblems, summary } from "../../cli/runs.js";
import { RunDetail } from "../../core/api.js";
import type { Run } from "../../core/run-record.js";
import type { LocalCloud } from "../../local/cloud.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";
import { startPipelineCloud } from "./pipeline-stack.js";
import { smtpServer } from "./smtp-server.js";

/** The backoff unit: email and HTTP wait 1, 2 and 4 units between their 4 attempts. */
const UNIT_MS = 60;

let cloud: LocalCloud;
let config: ClientConfig;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ cloud, config, cleanup } = await startTestCloud({ sns: { backoffBaseMs: UNIT_MS } }));
});

afterAll(async () => {
  await cleanup();
});

afterEach(() => {
  delete process.env.MODELDROP_SMTP_URL;
});

interface StatusRecord {
  notification: { messageId: string; topicArn: string; messageMD5Sum: string; timestamp: string };
  delivery: {
    destination: string;
    attempts: number;
    statusCode?: number;
    providerResponse: string;
    dwellTimeMs: number;
    nextAttemptAt?: string;
  };
  status: "SUCCESS" | "FAILURE";
}

/** The topic's delivery-status records for one message, read as GET /runs/{id} reads them. */
async function statusRecords(
  cfg: ClientConfig,
  topic: string,
  messageId: string,
): Promise<{ success: StatusRecord[]; failure: StatusRecord[] }> {
  const logs = new CloudWatchLogsClient(cfg);
  const read = async (group: string) => {
    try {
      const found = await logs.send(
        new FilterLogEventsCommand({
          logGroupName: group,
          filterPattern: `{ $.notification.messageId = "${messageId}" }`,
        }),
      );
      return (found.events ?? []).map((e) => JSON.parse(e.message ?? "{}") as StatusRecord);
    } catch (error) {
      if ((error as Error).name === "ResourceNotFoundException") return [];
      throw error;
    }
  };
  const group = `sns/us-east-1/000000000000/${topic}`;
  return { success: await read(group), failure: await read(`${group}/Failure`) };
}

function emailsFor(stateDir: string, messageId: string): string[] {
  const outbox = join(stateDir, "outbox");
  if (!existsSync(outbox)) return [];
  return readdirSync(outbox).filter((name) => name.includes(messageId));
}

/** A port nothing listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function emailTopic(cfg: ClientConfig, name: string, address: string) {
  const sns = new SNSClient(cfg);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: "email", Endpoint: address }));
  return { sns, TopicArn };
}

/** Publishes and returns the MessageId with how long Publish took to answer. */
async function timedPublish(sns: SNSClient, TopicArn: string | undefined, message: string) {
  const started = Date.now();
  const { MessageId } = await sns.send(
    new PublishCommand({ TopicArn, Subject: "modeldrop: run failed", Message: message }),
  );
  return { messageId: MessageId ?? "", answeredMs: Date.now() - started };
}

describe("local SNS delivery", () => {
  it("answers Publish at once while SMTP refuses, retries with backoff and records each attempt", async () => {
    const port = await deadPort();
    process.env.MODELDROP_SMTP_URL = `smtp://notices:s3cr3t-pw@127.0.0.1:${port}`;
    const { sns, TopicArn } = await emailTopic(config, "refused", "you@example.com");

    const { messageId, answeredMs } = await timedPublish(sns, TopicArn, "see the log");
    await cloud.sns.settle();

    expect(answeredMs).toBeLessThan(1000);
    const { success, failure } = await statusRecords(config, "refused", messageId);
    expect(success).toEqual([]);
    expect(failure.map((r) => [r.delivery.attempts, r.status])).toEqual([
      [1, "FAILURE"],
      [2, "FAILURE"],
      [3, "FAILURE"],
      [4, "FAILURE"],
    ]);
    const first = failure[0];
    expect(first?.notification).toMatchObject({ messageId, topicArn: TopicArn });
    expect(first?.delivery.destination).toBe("you@example.com");
    expect(first?.delivery.providerResponse).toMatch(/^SMTP connection refused/);
    // Retried ones say when the next attempt is; the last one does not.
    expect(failure.map((r) => r.delivery.nextAttemptAt !== undefined)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    // Waits of 1, 2 and 4 units between attempts.
    const dwell = failure.map((r) => r.delivery.dwellTimeMs);
    expect((dwell[1] ?? 0) - (dwell[0] ?? 0)).toBeGreaterThanOrEqual(UNIT_MS);
    expect((dwell[2] ?? 0) - (dwell[1] ?? 0)).toBeGreaterThanOrEqual(2 * UNIT_MS);
    expect((dwell[3] ?? 0) - (dwell[2] ?? 0)).toBeGreaterThanOrEqual(4 * UNIT_MS);
    expect(emailsFor(cloud.stateDir, messageId)).toHaveLength(1);
    const deadLetters = readFileSync(join(cloud.stateDir, "sns", "dead-letters.json"), "utf8");
    expect(deadLetters).toContain(messageId);
    expect(readdirSync(join(cloud.stateDir, "sns", "pending"))).toEqual([]);
    // The SMTP URL carries credentials: never in a record.
    const everything = JSON.stringify({ failure, deadLetters });
    expect(everything).not.toContain("s3cr3t-pw");
    expect(everything).not.toContain("smtp://");
  });

  it("retries a recipient the SMTP server rejected and records the 550, then the delivery", async () => {
    const smtp = await smtpServer(1);
    process.env.MODELDROP_SMTP_URL = `smtp://127.0.0.1:${smtp.port}`;
    try {
      const { sns, TopicArn } = await emailTopic(config, "rejected-once", "ops@example.com");

      const { messageId, answeredMs } = await timedPublish(sns, TopicArn, "retried");
      await cloud.sns.settle();

      expect(answeredMs).toBeLessThan(1000);
      const { success, failure } = await statusRecords(config, "rejected-once", messageId);
      expect(failure.map((r) => [r.delivery.attempts, r.status, r.delivery.statusCode])).toEqual([
        [1, "FAILURE", 550],
      ]);
      expect(failure[0]?.delivery.providerResponse).toContain("mailbox unavailable");
      expect(success.map((r) => [r.delivery.attempts, r.status, r.delivery.statusCode])).toEqual([
        [2, "SUCCESS", 250],
      ]);
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]?.to).toEqual(["ops@example.com"]);
      expect(smtp.received[0]?.data).toContain("retried");
      expect(emailsFor(cloud.stateDir, messageId)).toHaveLength(1);
    } finally {
      await smtp.close();
    }
  });

  it("carries message attributes to HTTP subscribers and retries a 5xx", async () => {
    const bodies: Record<string, unknown>[] = [];
    const server: HttpServer = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        bodies.push(JSON.parse(body));
        res.writeHead(bodies.length === 1 ? 503 : 200).end(bodies.length === 1 ? "busy" : "ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const sns = new SNSClient(config);
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "hooks" }));
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: "http", Endpoint: url }));

      const { MessageId } = await sns.send(
        new PublishCommand({
          TopicArn,
          Message: "m",
          MessageAttributes: { runId: { DataType: "String", StringValue: "run-1" } },
        }),
      );
      await cloud.sns.settle();

      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toMatchObject({
        MessageId,
        MessageAttributes: { runId: { Type: "String", Value: "run-1" } },
      });
      const { success, failure } = await statusRecords(config, "hooks", MessageId ?? "");
      expect(failure.map((r) => [r.delivery.attempts, r.delivery.statusCode])).toEqual([[1, 503]]);
      expect(success.map((r) => [r.delivery.attempts, r.delivery.statusCode])).toEqual([[2, 200]]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("hands Lambda subscribers the attributes and retries a function error twice", async () => {
    const events: unknown[] = [];
    const invoke = vi.spyOn(cloud.functions, "invoke").mockImplementation(async (_arn, event) => {
      events.push(event);
      return { payload: null, error: { errorType: "Error", errorMessage: "boom" } };
    });
    try {
      const sns = new SNSClient(config);
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "functions" }));
      const fn = "arn:aws:lambda:us-east-1:000000000000:function:listener";
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: "lambda", Endpoint: fn }));

      const { MessageId } = await sns.send(
        new PublishCommand({
          TopicArn,
          Message: "m",
          MessageAttributes: { runId: { DataType: "String", StringValue: "run-2" } },
        }),
      );
      await cloud.sns.settle();

      expect(events).toHaveLength(3);
      expect(events[0]).toMatchObject({
        Records: [
          {
            EventSource: "aws:sns",
            Sns: { MessageId, MessageAttributes: { runId: { Type: "String", Value: "run-2" } } },
          },
        ],
      });
      const { failure } = await statusRecords(config, "functions", MessageId ?? "");
      expect(failure.map((r) => r.delivery.attempts)).toEqual([1, 2, 3]);
      expect(failure[2]?.delivery.providerResponse).toContain("boom");
    } finally {
      invoke.mockRestore();
    }
  });

  it("refuses a message attribute without a value, as SNS does", async () => {
    const sns = new SNSClient(config);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "attributes" }));

    const publish = sns.send(
      new PublishCommand({
        TopicArn,
        Message: "m",
        MessageAttributes: { runId: { DataType: "String", StringValue: "" } },
      }),
    );

    await expect(publish).rejects.toMatchObject({ name: "InvalidParameterValueException" });
  });
});

describe("local SNS across a restart", () => {
  it("stops without waiting on a silent SMTP server and resumes the delivery once on the next start", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-sns-restart-"));
    // Accepts connections and never says a word: nodemailer waits for the greeting.
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const smtp = await smtpServer();
    try {
      process.env.MODELDROP_SMTP_URL = `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const first = await startTestCloud({ stateDir });
      const { sns, TopicArn } = await emailTopic(first.config, "restarted", "you@example.com");

      const { messageId, answeredMs } = await timedPublish(sns, TopicArn, "after a restart");
      // The first attempt is under way: the outbox copy exists, SMTP has not answered.
      await until(() => emailsFor(stateDir, messageId).length === 1);
      const stopping = Date.now();
      await first.cleanup();
      const stopMs = Date.now() - stopping;

      expect(answeredMs).toBeLessThan(1000);
      expect(stopMs).toBeLessThan(5000);
      expect(readdirSync(join(stateDir, "sns", "pending"))).toEqual([`${messageId}.json`]);

      process.env.MODELDROP_SMTP_URL = `smtp://127.0.0.1:${smtp.port}`;
      const second = await startTestCloud({ stateDir, sns: { backoffBaseMs: UNIT_MS } });
      try {
        await second.cloud.sns.settle();

        expect(smtp.received).toHaveLength(1);
        expect(smtp.received[0]?.data).toContain("after a restart");
        expect(emailsFor(stateDir, messageId)).toHaveLength(1);
        expect(readdirSync(join(stateDir, "sns", "pending"))).toEqual([]);
        // The attempt the stop cut short is not counted: the resumed one is the first.
        const { success, failure } = await statusRecords(second.config, "restarted", messageId);
        expect(failure).toEqual([]);
        expect(success.map((r) => [r.delivery.attempts, r.status])).toEqual([[1, "SUCCESS"]]);
      } finally {
        await second.cleanup();
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await smtp.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("the packaged stack's notice permissions", () => {
  type Statement = { Effect: string; Action: string[]; Resource: unknown };
  const template = () =>
    JSON.parse(
      readFileSync(
        join(inject("packagedStack"), "cloudformation-template-update-stack.json"),
        "utf8",
      ),
    ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const statements = (role: string): Statement[] => {
    const policies = template().Resources[role]?.Properties.Policies as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  };
  const groups = [
    { "Fn::GetAtt": ["NoticeDeliveryLogGroup", "Arn"] },
    { "Fn::GetAtt": ["NoticeDeliveryFailureLogGroup", "Arn"] },
  ];

  it("lets the Slack notifier update runs and nothing more in DynamoDB", () => {
    const dynamo = statements("SlackNotifierIamRoleLambdaExecution").filter((s) =>
      s.Action.some((a) => a.startsWith("dynamodb:")),
    );

    expect(dynamo).toEqual([
      {
        Effect: "Allow",
        Action: ["dynamodb:UpdateItem"],
        Resource: { "Fn::GetAtt": ["RunsTable", "Arn"] },
      },
    ]);
  });

  it("lets GET /runs/{id} filter the topic's delivery-status groups only", () => {
    const filtering = statements("ApiGetRunIamRoleLambdaExecution").filter((s) =>
      s.Action.includes("logs:FilterLogEvents"),
    );

    expect(filtering).toEqual([
      { Effect: "Allow", Action: ["logs:FilterLogEvents"], Resource: groups },
    ]);
  });

  it("logs the topic's Lambda deliveries with a role that may only write those groups", () => {
    const { Resources } = template();

    expect(Resources.NoticeTopic?.Properties.DeliveryStatusLogging).toEqual([
      {
        Protocol: "lambda",
        SuccessFeedbackRoleArn: { "Fn::GetAtt": ["NoticeDeliveryStatusRole", "Arn"] },
        SuccessFeedbackSampleRate: "100",
        FailureFeedbackRoleArn: { "Fn::GetAtt": ["NoticeDeliveryStatusRole", "Arn"] },
      },
    ]);
    expect(statements("NoticeDeliveryStatusRole")).toEqual([
      {
        Sid: "WriteDeliveryStatus",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: groups,
      },
    ]);
    expect(Resources.NoticeDeliveryLogGroup?.Properties.LogGroupName).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
      "Fn::Sub": "sns/${AWS::Region}/${AWS::AccountId}/modeldrop-dev-notices",
    });
  });
});

describe("a run's notice on the packaged stack", () => {
  it("publishes without waiting on SMTP and shows every attempt in GET /runs/{id} and the CLI", async () => {
    const port = await deadPort();
    process.env.MODELDROP_SMTP_URL = `smtp://127.0.0.1:${port}`;
    // Slack answers 500 once, then takes the notice.
    let slackPosts = 0;
    const slack: HttpServer = createHttpServer((req, res) => {
      req.resume();
      req.on("end", () => {
        slackPosts += 1;
        res.writeHead(slackPosts === 1 ? 500 : 200).end(slackPosts === 1 ? "oops" : "ok");
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, "127.0.0.1", resolve));
    const stack = await startPipelineCloud({ sns: { backoffBaseMs: 30 } }, inject("packagedStack"));
    try {
      const outputs = stack.cloud.stack?.outputs ?? {};
      await new SSMClient(stack.config).send(
        new PutParameterCommand({
          Name: outputs.SlackWebhookParameterName,
          Value: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`,
          Type: "SecureString",
        }),
      );
      const run: Run = {
        id: "notice-delivery-run",
        kind: "train",
        status: "STOPPED",
        createdAt: "2026-12-01T10:00:00.000Z",
        updatedAt: "2026-12-01T10:05:00.000Z",
        endedAt: "2026-12-01T10:05:00.000Z",
        dataset: {
          bucket: stack.bucket,
          key: "inbox/churn.csv",
          versionId: "v1",
          name: "churn.csv",
        },
        options: {},
        optionsSource: "none",
        notes: [],
      };
      const db = DynamoDBDocumentClient.from(new DynamoDBClient(stack.config));
      await db.send(
        new PutCommand({ TableName: outputs.RunsTableName, Item: { ...run, listed: "run" } }),
      );
      const notify = stack.cloud.stack?.resources.find(
        (r) => r.logicalId === "NotifyLambdaFunction",
      )?.physicalId;

      const started = Date.now();
      const answer = await stack.cloud.functions.invoke(String(notify), { runId: run.id });
      const notifyMs = Date.now() - started;
      await stack.cloud.sns.settle();
      const response = await fetch(`${stack.cloud.apiEndpoint}/runs/${run.id}`, {
        headers: { authorization: `Bearer ${stack.token}` },
      });
      const detail = RunDetail.parse(await response.json());

      expect(answer).toEqual({ payload: { notice: "sent" } });
      // The Notify step never waits on SMTP's retries (4 attempts here; a minute by default).
      expect(notifyMs).toBeLessThan(10_000);
      expect(detail.notice?.messageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(detail.notice?.publishedAt).toEqual(expect.any(String));
      const by = (channel: string) =>
        detail.notice?.deliveries
          .filter((d) => d.channel === channel)
          .map((d) => [d.attempt, d.outcome]);
      expect(by("email")).toEqual([
        [1, "retrying"],
        [2, "retrying"],
        [3, "retrying"],
        [4, "failed"],
      ]);
      expect(by("slack")).toEqual([
        [1, "retrying"],
        [2, "delivered"],
      ]);
      expect(by("lambda")).toEqual([[1, "delivered"]]);
      expect(noticeProblems(detail)).toEqual([
        expect.stringMatching(
          /^email to ml-team@example\.com failed after 4 attempts: SMTP connection refused/,
        ),
      ]);
      expect(summary(detail)).toContain("  notice:   email to ml-team@example.com failed after 4");
    } finally {
      await stack.cleanup();
      await new Promise<void>((resolve) => slack.close(() => resolve()));
    }
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
