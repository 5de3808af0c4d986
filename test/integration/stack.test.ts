import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { DescribeTrainingJobCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { resolveStack } from "../../local/stack.js";
import { packageFixtureStack } from "./fixture-stack.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";

let cloud: LocalCloud;
let config: ClientConfig;
let cleanup: () => Promise<void>;
let eventsFile: string;
let bucket: string;
let pipeline: string;
let stackDir: string;
const inboxFolder = mkdtempSync(join(tmpdir(), "inbox-"));
const ROLE = "arn:aws:iam::000000000000:role/fixture-PipelineRole";

function recorded(): { invocations: number; event: Record<string, unknown> }[] {
  if (!existsSync(eventsFile)) return [];
  return readFileSync(eventsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  const stack = packageFixtureStack();
  stackDir = stack.dir;
  eventsFile = join(mkdtempSync(join(tmpdir(), "events-")), "events.jsonl");
  const started = await startTestCloud({
    stack: { dir: stack.dir, stackName: "fixture", parameters: { EventsFile: eventsFile } },
    stopGraceSeconds: 1,
    // A long interval: the test drives the watcher's polls itself.
    inbox: { folder: inboxFolder, intervalMs: 3_600_000 },
  });
  ({ cloud, config, cleanup } = started);
  bucket = cloud.stack?.outputs.DataBucketName ?? "";
  pipeline = cloud.stack?.outputs.PipelineArn ?? "";
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "code/sourcedir.tar.gz", Body: stack.sourcedir }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "data/train/rows.csv", Body: "x\n1\n" }),
  );
});

afterAll(async () => {
  await cleanup();
});

describe("the local cloud built from a packaged stack", () => {
  it("creates the template resources with their resolved names", async () => {
    const table = await new DynamoDBClient(config).send(
      new DescribeTableCommand({ TableName: "fixture-runs" }),
    );
    const parameter = await new SSMClient(config).send(
      new GetParameterCommand({ Name: "/fixture/slack-webhook" }),
    );

    expect(bucket).toBe("fixture-data-000000000000");
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: "id", KeyType: "HASH" }]);
    expect(parameter.Parameter?.Value).toBe("unset");
    expect(cloud.stack?.ignored).toContain("AWS::IAM::Role");
  });

  it("names the unnamed deployment bucket as CloudFormation would, the same name on every start", async () => {
    const listed = await new S3Client({ ...config, forcePathStyle: true }).send(
      new ListBucketsCommand({}),
    );
    const names = listed.Buckets?.map((b) => b.Name) ?? [];
    const deploymentBucket = (stack: typeof cloud.stack) =>
      stack?.resources.find((r) => r.logicalId === "ServerlessDeploymentBucket")?.physicalId;
    const again = resolveStack(
      { dir: stackDir, stackName: "fixture", parameters: { EventsFile: eventsFile } },
      cloud.region,
      cloud.account,
    );

    const name = deploymentBucket(cloud.stack);
    expect(name).toMatch(/^fixture-serverlessdeploymentbucket-[a-z0-9]{12}$/);
    expect(names).toContain(name);
    expect(names).not.toContain("undefined");
    expect(deploymentBucket(again)).toBe(name);
  });

  it.each([
    [
      "a state with neither Next nor End",
      {
        StartAt: "Start",
        States: { Start: { Type: "Pass", Next: "Record" }, Record: { Type: "Pass" } },
      },
      `MISSING_TRANSITION_TARGET: State "Record" is not an end state and does not have a Next field at /States/Record`,
    ],
    [
      "a Next that names no state",
      { StartAt: "Start", States: { Start: { Type: "Pass", Next: "Nowhere" } } },
      "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/Start/Next",
    ],
    [
      "a Catch that names no state",
      {
        StartAt: "Start",
        States: {
          Start: {
            Type: "Pass",
            End: true,
            Catch: [{ ErrorEquals: ["States.ALL"], Next: "Recover" }],
          },
        },
      },
      "MISSING_TRANSITION_TARGET: Missing 'Next' target: Recover at /States/Start/Catch[0]/Next",
    ],
    [
      "a state nothing reaches",
      {
        StartAt: "Start",
        States: { Start: { Type: "Succeed" }, Orphan: { Type: "Pass", End: true } },
      },
      'MISSING_TRANSITION_TARGET: State "Orphan" is not reachable. at /States/Orphan',
    ],
    [
      "no StartAt",
      { States: { Start: { Type: "Succeed" } } },
      "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /",
    ],
  ])(
    "refuses CreateStateMachine for a definition with %s, naming the problem, and creates nothing",
    async (_, definition, problem) => {
      const sfn = new SFNClient(config);

      const created = sfn.send(
        new CreateStateMachineCommand({
          name: "broken",
          definition: JSON.stringify(definition),
          roleArn: ROLE,
        }),
      );

      await expect(created).rejects.toMatchObject({
        name: "InvalidDefinition",
        message: `Invalid State Machine Definition: '${problem}'`,
      });
      const machines = await sfn.send(new ListStateMachinesCommand({}));
      expect(machines.stateMachines?.map((m) => m.name)).not.toContain("broken");
    },
  );

  it("delivers an upload to inbox/ to the rule target exactly once, and an upload elsewhere not at all", async () => {
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "inbox/my data+v1.csv", Body: "a,b\n1,2\n" }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "runs/r1/input/other.csv", Body: "a\n" }),
    );
    await cloud.events.settle();

    const deliveries = recorded().filter((r) => r.event["detail-type"] === "Object Created");
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.event).toMatchObject({
      source: "aws.s3",
      detail: {
        bucket: { name: bucket },
        object: { key: "inbox/my+data%2Bv1.csv", size: 8, "version-id": put.VersionId },
        reason: "PutObject",
      },
    });
  });

  it("runs an execution through a Lambda task and a .sync training job, with history and outputs", async () => {
    const sfn = new SFNClient(config);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "run-ok",
        input: JSON.stringify({ x: 21, jobName: "run-ok-train", mode: "ok" }),
      }),
    );

    const done = await until(async () => {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return e.status === "RUNNING" ? undefined : e;
    }, "the execution to end");
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));

    expect({ status: done.status, error: done.error, cause: done.cause }).toEqual({
      status: "SUCCEEDED",
      error: undefined,
      cause: undefined,
    });
    expect(JSON.parse(done.output ?? "{}")).toMatchObject({
      compute: { score: 42 },
      train: {
        status: "Completed",
        model: `s3://${bucket}/runs/run-ok/jobs/run-ok-train/output/model.tar.gz`,
      },
    });
    const task = [
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
    ];
    expect(history.events?.map((e) => e.type)).toEqual([
      "ExecutionStarted",
      ...task,
      ...task,
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
    const artifact = await new S3Client({ ...config, forcePathStyle: true }).send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: "runs/run-ok/jobs/run-ok-train/output/model.tar.gz",
      }),
    );
    expect(artifact.ContentLength).toBeGreaterThan(0);
  });

  it("starts an execution once per name: the same input is idempotent, another input conflicts", async () => {
    const sfn = new SFNClient(config);
    const input = JSON.stringify({ x: 1, jobName: "idem-train", mode: "sleep" });
    const first = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipeline, name: "idem", input }),
    );
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipeline, name: "idem", input }),
    );
    const conflicting = sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipeline, name: "idem", input: '{"x": 2}' }),
    );

    expect(again.executionArn).toBe(first.executionArn);
    await expect(conflicting).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  });

  it("follows the Catch path when the Lambda task throws a named error", async () => {
    const sfn = new SFNClient(config);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "run-rejected",
        input: JSON.stringify({ reject: "no rows" }),
      }),
    );

    const done = await until(async () => {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return e.status === "RUNNING" ? undefined : e;
    }, "the execution to end");

    expect({ status: done.status, error: done.error, cause: done.cause }).toEqual({
      status: "SUCCEEDED",
      error: undefined,
      cause: undefined,
    });
    const output = JSON.parse(done.output ?? "{}");
    expect(output.outcome).toBe("rejected");
    expect(output.failure.Error).toBe("DatasetRejected");
    expect(JSON.parse(output.failure.Cause)).toMatchObject({
      errorType: "DatasetRejected",
      errorMessage: "the dataset was rejected: no rows",
    });
  });

  it("fails the execution with the job as cause when training fails, and emits the status-change event", async () => {
    const sfn = new SFNClient(config);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "run-fails",
        input: JSON.stringify({ x: 1, jobName: "run-fails-train", mode: "fail" }),
      }),
    );

    const done = await until(async () => {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return e.status === "RUNNING" ? undefined : e;
    }, "the execution to end");
    await cloud.events.settle();

    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("TrainingFailed");
    const ends = recorded().filter(
      (r) => r.event.kind === "execution-end" && r.event.name === "run-fails",
    );
    expect(ends.map((r) => r.event.status)).toEqual(["FAILED"]);
  });

  it("stops the running job when its execution is stopped, and reports ABORTED through EventBridge", async () => {
    const sfn = new SFNClient(config);
    const sagemaker = new SageMakerClient(config);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "run-stopped",
        input: JSON.stringify({ x: 1, jobName: "run-stopped-train", mode: "sleep" }),
      }),
    );
    await until(async () => {
      const job = await sagemaker
        .send(new DescribeTrainingJobCommand({ TrainingJobName: "run-stopped-train" }))
        .catch(() => undefined);
      return job?.SecondaryStatus === "Training" ? job : undefined;
    }, "the training job to start");

    await sfn.send(new StopExecutionCommand({ executionArn, cause: "cancelled by the user" }));
    const job = await until(async () => {
      const j = await sagemaker.send(
        new DescribeTrainingJobCommand({ TrainingJobName: "run-stopped-train" }),
      );
      return j.TrainingJobStatus === "Stopped" ? j : undefined;
    }, "the training job to stop");
    await cloud.events.settle();

    expect(job.TrainingJobStatus).toBe("Stopped");
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("ABORTED");
    const ends = recorded().filter(
      (r) => r.event.kind === "execution-end" && r.event.name === "run-stopped",
    );
    expect(ends.map((r) => r.event.status)).toEqual(["ABORTED"]);
  });

  it("keeps each function in its own environment with warm module state", async () => {
    const before = recorded().at(-1)?.invocations ?? 0;
    await cloud.functions.invoke("fixture-record-event", { kind: "ping" });

    expect(recorded().at(-1)?.invocations).toBe(before + 1);
    const compute = await cloud.functions.invoke("fixture-compute", { x: 2 });
    expect(compute.payload).toEqual({ score: 4, region: "us-east-1" });
  });

  it("refuses bad Step Functions requests with AWS's error names", async () => {
    const sfn = new SFNClient(config);
    const jsonata = JSON.stringify({
      QueryLanguage: "JSONata",
      StartAt: "A",
      States: { A: { Type: "Pass", End: true } },
    });
    const stateContext = JSON.stringify({
      StartAt: "A",
      States: { A: { Type: "Pass", Parameters: { "n.$": "$$.State.Name" }, End: true } },
    });
    const unknownMachine = pipeline.replace("fixture-pipeline", "no-such-machine");
    const done = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "closed-run",
        input: JSON.stringify({ x: 1, reject: "bad" }),
      }),
    );
    await until(async () => {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn: done.executionArn }));
      return e.status === "RUNNING" ? undefined : e;
    }, "the execution to end");

    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: pipeline, name: "bad name!" })),
    ).rejects.toMatchObject({ name: "InvalidName" });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: unknownMachine, name: "x" })),
    ).rejects.toMatchObject({ name: "StateMachineDoesNotExist" });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: pipeline, name: "x", input: "{" })),
    ).rejects.toMatchObject({ name: "InvalidExecutionInput" });
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${pipeline.replace(":stateMachine:", ":execution:")}:never-ran`,
        }),
      ),
    ).rejects.toMatchObject({ name: "ExecutionDoesNotExist" });
    // A closed execution's name cannot be reused, even with the same input.
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: pipeline,
          name: "closed-run",
          input: JSON.stringify({ x: 1, reject: "bad" }),
        }),
      ),
    ).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
    const unservedTask = JSON.stringify({
      StartAt: "A",
      States: {
        A: { Type: "Task", Resource: "arn:aws:states:::sqs:sendMessage", End: true },
      },
    });
    for (const definition of [jsonata, stateContext, unservedTask])
      await expect(
        sfn.send(new CreateStateMachineCommand({ name: "refused", definition, roleArn: ROLE })),
      ).rejects.toMatchObject({ name: "InvalidDefinition" });
  });

  it("routes PutEvents through a rule's pattern to its target, transformed, and refuses bad patterns", async () => {
    const events = new EventBridgeClient(config);
    const before = recorded().length;
    await events.send(
      new PutRuleCommand({
        Name: "big-scores",
        EventPattern: JSON.stringify({
          source: ["bench.scores"],
          detail: { score: [{ numeric: [">=", 90] }], run: [{ prefix: "run-" }] },
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "big-scores",
        Targets: [
          {
            Id: "record",
            Arn: cloud.functions.arn("fixture-record-event"),
            InputTransformer: {
              InputPathsMap: { run: "$.detail.run", score: "$.detail.score" },
              InputTemplate: '{"kind": "score", "run": <run>, "score": <score>}',
            },
          },
        ],
      }),
    );

    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: "bench.scores", DetailType: "Score", Detail: '{"run":"run-7","score":95}' },
          { Source: "bench.scores", DetailType: "Score", Detail: '{"run":"run-8","score":50}' },
          { Source: "bench.scores", DetailType: "Score", Detail: "{not json" },
        ],
      }),
    );
    await cloud.events.settle();

    expect(put.FailedEntryCount).toBe(1);
    expect(
      recorded()
        .slice(before)
        .map((r) => r.event),
    ).toEqual([{ kind: "score", run: "run-7", score: 95 }]);
    await expect(
      events.send(new PutRuleCommand({ Name: "broken", EventPattern: '{"source": "not-a-list"}' })),
    ).rejects.toMatchObject({ name: "InvalidEventPatternException" });
  });

  it("uploads a file dropped in the inbox folder once it stops changing, exactly once", async () => {
    const inbox = cloud.inbox;
    if (!inbox) throw new Error("the test cloud has no inbox watcher");
    const before = recorded().length;
    const file = join(inboxFolder, "café orders.csv");
    writeFileSync(file, "a,b\n");
    writeFileSync(join(inboxFolder, "half.csv.part"), "a,b\n");

    const firstSight = inbox.poll();
    appendFileSync(file, "1,2\n");
    const stillChanging = inbox.poll();
    const stable = inbox.poll();
    const again = inbox.poll();
    await cloud.events.settle();

    expect([firstSight, stillChanging, stable, again]).toEqual([
      [],
      [],
      ["inbox/café orders.csv"],
      [],
    ]);
    const object = await new S3Client({ ...config, forcePathStyle: true }).send(
      new GetObjectCommand({ Bucket: bucket, Key: "inbox/café orders.csv" }),
    );
    expect(await object.Body?.transformToString()).toBe("a,b\n1,2\n");
    const created = recorded()
      .slice(before)
      .filter((r) => r.event["detail-type"] === "Object Created");
    expect(created.map((r) => (r.event.detail as { object: { key: string } }).object.key)).toEqual([
      "inbox/caf%C3%A9+orders.csv",
    ]);
  });
});
