import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeTrainingJobCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { afterAll, describe, expect, it } from "vitest";
import { packageFixtureStack } from "./fixture-stack.js";
import { startTestCloud } from "./helpers.js";
import { processesUnder, startUp, type UpProcess } from "./up-process.js";

const started: UpProcess[] = [];

afterAll(async () => {
  for (const up of started) await up.crash();
});

describe("restarting the local cloud after it died mid-execution", () => {
  it("marks the execution and its job failed, emits the status-change event, and keeps stored objects", async () => {
    const stack = packageFixtureStack();
    const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-restart-"));
    const eventsFile = join(stateDir, "events.jsonl");
    const up = await startUp([
      "--port",
      "0",
      "--state-dir",
      stateDir,
      "--inbox",
      join(stateDir, "inbox"),
      "--stack",
      stack.dir,
      "--param",
      `EventsFile=${eventsFile}`,
      "--param",
      "NoticeEmail=",
    ]);
    started.push(up);
    const config = {
      endpoint: up.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const bucket = "modeldrop-local-data-000000000000";
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "code/sourcedir.tar.gz", Body: stack.sourcedir }),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "data/train/rows.csv", Body: "x\n1\n" }),
    );
    const sfn = new SFNClient(config);
    const pipeline = `arn:aws:states:us-east-1:000000000000:stateMachine:modeldrop-local-pipeline`;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: pipeline,
        name: "doomed",
        input: JSON.stringify({ x: 1, jobName: "doomed-train", mode: "sleep" }),
      }),
    );
    const sagemaker = new SageMakerClient(config);
    for (;;) {
      const job = await sagemaker
        .send(new DescribeTrainingJobCommand({ TrainingJobName: "doomed-train" }))
        .catch(() => undefined);
      if (job?.SecondaryStatus === "Training") break;
      await new Promise((r) => setTimeout(r, 100));
    }

    await up.crash();
    expect(await processesUnder(stateDir)).toEqual([]);
    const restarted = await startTestCloud({
      stateDir,
      stack: { dir: stack.dir, parameters: { EventsFile: eventsFile, NoticeEmail: "" } },
    });
    await restarted.cloud.events.settle();

    const execution = await new SFNClient(restarted.config).send(
      new DescribeExecutionCommand({ executionArn }),
    );
    const job = await new SageMakerClient(restarted.config).send(
      new DescribeTrainingJobCommand({ TrainingJobName: "doomed-train" }),
    );
    expect(execution.status).toBe("FAILED");
    expect(execution.cause).toContain("local cloud restarted");
    expect(job.TrainingJobStatus).toBe("Failed");
    expect(existsSync(eventsFile)).toBe(true);
    const ends = readFileSync(eventsFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).event)
      .filter((e) => e.kind === "execution-end");
    expect(ends).toEqual([expect.objectContaining({ status: "FAILED", name: "doomed" })]);
    expect(restarted.cloud.objects.read(bucket, "data/train/rows.csv").toString()).toBe("x\n1\n");
    await restarted.cleanup();
  }, 60_000);
});
