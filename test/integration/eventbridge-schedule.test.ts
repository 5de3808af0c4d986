// Scheduled rules on the local cloud, as a `schedule:` event of serverless.yml packages them:
// an AWS::Events::Rule with a ScheduleExpression and its function as target (and the
// AWS::Lambda::Permission, accepted and ignored). The rule's ticks reach the function with the
// Scheduled Event; a new version of the stack re-arms or deletes the rule; nothing ticks after
// the cloud stops. `scheduleSpeedup` makes rate(5 minutes) tick every 100 ms.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { afterAll, describe, expect, it } from "vitest";
import { templatePath } from "../../local/stack.js";
import { packageFixtureStack } from "./fixture-stack.js";
import { startTestCloud } from "./helpers.js";

const SPEEDUP = 3_000;
const PERIOD_MS = 300_000 / SPEEDUP;
const RULE = "CleanupEventsRuleSchedule1";

const stack = packageFixtureStack();
const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-schedule-"));
const eventsFile = join(stateDir, "events.jsonl");

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(stack.dir, { recursive: true, force: true });
});

function start() {
  return startTestCloud({
    stateDir,
    stack: { dir: stack.dir, stackName: "fixture", parameters: { EventsFile: eventsFile } },
    events: { scheduleSpeedup: SPEEDUP },
  });
}

type Started = Awaited<ReturnType<typeof start>>;

/** The fixture template with the scheduled rule as `serverless package` writes it, or without it. */
function setScheduledRule(rule: { schedule: string; input?: string } | undefined): void {
  const path = templatePath(stack.dir);
  const template = JSON.parse(readFileSync(path, "utf8")) as {
    Resources: Record<string, unknown>;
  };
  const fn = { "Fn::GetAtt": ["RecordEventLambdaFunction", "Arn"] };
  if (rule) {
    template.Resources[RULE] = {
      Type: "AWS::Events::Rule",
      Properties: {
        ScheduleExpression: rule.schedule,
        State: "ENABLED",
        Targets: [{ Arn: fn, Id: "cleanupSchedule", ...(rule.input ? { Input: rule.input } : {}) }],
      },
    };
    template.Resources.CleanupLambdaPermissionEventsRuleSchedule1 = {
      Type: "AWS::Lambda::Permission",
      Properties: {
        FunctionName: fn,
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        SourceArn: { "Fn::GetAtt": [RULE, "Arn"] },
      },
    };
  } else {
    delete template.Resources[RULE];
    delete template.Resources.CleanupLambdaPermissionEventsRuleSchedule1;
  }
  writeFileSync(path, JSON.stringify(template));
}

/** What the fixture function has received, in order. */
function recorded(): Record<string, unknown>[] {
  if (!existsSync(eventsFile)) return [];
  return readFileSync(eventsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).event);
}

const ticks = () => recorded().filter((event) => event["detail-type"] === "Scheduled Event");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function ruleName(started: Started): string {
  const rule = started.cloud.stack?.resources.find((r) => r.logicalId === RULE);
  if (!rule) throw new Error(`the stack has no ${RULE}`);
  return rule.physicalId;
}

async function listRules(started: Started) {
  const client = new EventBridgeClient(started.config);
  const answer = await client.send(new ListRulesCommand({}));
  client.destroy();
  return answer.Rules ?? [];
}

describe("scheduled rules on the local cloud", () => {
  it("creates the template's scheduled rule and sends its function the Scheduled Event on every tick", async () => {
    setScheduledRule({ schedule: "rate(5 minutes)" });
    const started = await start();
    const name = ruleName(started);
    const client = new EventBridgeClient(started.config);
    const targets = await client.send(new ListTargetsByRuleCommand({ Rule: name }));
    const rules = await listRules(started);
    await until(() => ticks().length >= 2, "two ticks");
    await started.cleanup();
    client.destroy();
    const afterStop = ticks().length;
    await sleep(PERIOD_MS * 4);

    expect(name).toMatch(/^fixture-CleanupEventsRuleSchedule1-[A-Z0-9]{12}$/);
    expect(rules.find((rule) => rule.Name === name)).toEqual({
      Name: name,
      Arn: `arn:aws:events:us-east-1:000000000000:rule/${name}`,
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
      EventBusName: "default",
    });
    expect(rules.filter((rule) => rule.EventPattern !== undefined)).toHaveLength(2);
    expect(targets.Targets).toEqual([
      {
        Id: "cleanupSchedule",
        Arn: "arn:aws:lambda:us-east-1:000000000000:function:fixture-record-event",
      },
    ]);
    expect(ticks()[0]).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: "us-east-1",
      resources: [`arn:aws:events:us-east-1:000000000000:rule/${name}`],
      detail: {},
    });
    expect(started.cloud.stack?.ignored).toContain("AWS::Lambda::Permission");
    expect(ticks()).toHaveLength(afterStop);
  });

  it("refuses bad schedules through the SDK with AWS's messages, and fires a rule now with runSchedule", async () => {
    setScheduledRule(undefined);
    const started = await start();
    const client = new EventBridgeClient(started.config);
    const put = (input: { ScheduleExpression?: string }) =>
      client.send(new PutRuleCommand({ Name: "by-hand", ...input }));

    await expect(put({ ScheduleExpression: "rate(1 minutes)" })).rejects.toMatchObject({
      name: "ValidationException",
      message: "Parameter ScheduleExpression is not valid.",
    });
    await expect(put({ ScheduleExpression: "cron(0 12 * * * *)" })).rejects.toMatchObject({
      name: "ValidationException",
      message: "Parameter ScheduleExpression is not valid.",
    });
    await expect(put({})).rejects.toMatchObject({
      name: "ValidationException",
      message: "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    });
    await put({ ScheduleExpression: "cron(0 3 1 JAN ? 2199)" });
    await client.send(
      new PutTargetsCommand({
        Rule: "by-hand",
        Targets: [
          {
            Id: "record",
            Arn: started.cloud.functions.arn("fixture-record-event"),
            Input: '{"kind": "by-hand"}',
          },
        ],
      }),
    );
    await started.cloud.events.runSchedule("by-hand");
    const afterRun = recorded().at(-1);
    await started.cleanup();
    client.destroy();

    expect(afterRun).toEqual({ kind: "by-hand" });
  });

  it("re-arms a changed rule and deletes a removed one when a new version of the stack starts", async () => {
    setScheduledRule({ schedule: "rate(5 minutes)", input: '{"version": 1}' });
    const first = await start();
    await until(() => recorded().some((event) => event.version === 1), "a tick of version 1");
    await first.cleanup();

    setScheduledRule({ schedule: "cron(0/5 * * * ? *)", input: '{"version": 2}' });
    const second = await start();
    const changed = (await listRules(second)).find((rule) => rule.Name === ruleName(second));
    await until(() => recorded().some((event) => event.version === 2), "a tick of version 2");
    const name = ruleName(second);
    await second.cleanup();

    setScheduledRule(undefined);
    const third = await start();
    const before = recorded().length;
    const remaining = (await listRules(third)).map((rule) => rule.Name);
    await sleep(PERIOD_MS * 4);
    const received = recorded().slice(before);
    const runRemoved = third.cloud.events.runSchedule(name);
    await expect(runRemoved).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await third.cleanup();

    expect(changed?.ScheduleExpression).toBe("cron(0/5 * * * ? *)");
    expect(remaining).not.toContain(name);
    expect(received).toEqual([]);
  });

  it("arms a rule made with PutRule again after a restart, from the state folder", async () => {
    const first = await start();
    const client = new EventBridgeClient(first.config);
    await client.send(new PutRuleCommand({ Name: "kept", ScheduleExpression: "rate(5 minutes)" }));
    await client.send(
      new PutTargetsCommand({
        Rule: "kept",
        Targets: [
          {
            Id: "record",
            Arn: first.cloud.functions.arn("fixture-record-event"),
            Input: '{"kind": "kept"}',
          },
        ],
      }),
    );
    client.destroy();
    await first.cleanup();
    const before = recorded().length;

    const restarted = await start();
    const keptTick = () =>
      recorded()
        .slice(before)
        .some((event) => event.kind === "kept");
    await until(keptTick, "a tick of the kept rule");
    await restarted.cleanup();

    expect(keptTick()).toBe(true);
  });
});
