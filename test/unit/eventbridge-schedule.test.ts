// Scheduled rules of the local EventBridge: AWS's rate() and cron() syntax and messages, the
// Scheduled Event a tick sends, and the timers (armed, re-armed, cleared, kept across a restart).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  EventBridgeService,
  parseScheduleExpression,
  type TargetInvoker,
} from "../../local/eventbridge.js";

const REGION = "us-east-1";
const ACCOUNT = "000000000000";
const FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:cleanup";
const OTHER_FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:other";
/** rate(1 minute) every 100 ms. */
const SPEEDUP = 600;
const PERIOD_MS = 60_000 / SPEEDUP;

const stateDirs: string[] = [];
const services: EventBridgeService[] = [];

afterEach(async () => {
  for (const service of services.splice(0)) {
    service.stopSchedules();
    await service.settle();
  }
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Delivered {
  arn: string;
  input: unknown;
  at: number;
}

/** A service over a state folder, its targets recorded instead of invoked, its schedules started. */
function service(
  options: { stateDir?: string; speedup?: number; invoke?: TargetInvoker; start?: boolean } = {},
) {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "eventbridge-"));
  if (!options.stateDir) stateDirs.push(stateDir);
  const delivered: Delivered[] = [];
  const events = new EventBridgeService(stateDir, REGION, ACCOUNT, {
    invokeTarget:
      options.invoke ??
      (async (arn, input) => {
        delivered.push({ arn, input, at: Date.now() });
        return { payload: null };
      }),
    scheduleSpeedup: options.speedup ?? SPEEDUP,
  });
  services.push(events);
  if (options.start !== false) events.startSchedules();
  return { events, delivered, stateDir };
}

function putScheduledRule(
  events: EventBridgeService,
  name: string,
  input: Record<string, unknown> = {},
  target: Record<string, unknown> = { Id: "cleanup", Arn: FUNCTION },
): void {
  events.operations.PutRule({ Name: name, ScheduleExpression: "rate(1 minute)", ...input });
  events.operations.PutTargets({ Rule: name, Targets: [target] });
}

const detailType = (input: unknown) =>
  typeof input === "object" && input !== null && "detail-type" in input
    ? input["detail-type"]
    : undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What a call throws, as AWS's error name and message, or "accepted". */
function refused(run: () => unknown): { name: string; message: string } | "accepted" {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return { name: error.name, message: error.message };
    throw error;
  }
  return "accepted";
}

describe("schedule expressions", () => {
  it.each([
    ["rate(1 minute)", 60_000],
    ["rate(5 minutes)", 300_000],
    ["rate(1 hour)", 3_600_000],
    ["rate(12 hours)", 43_200_000],
    ["rate(1 day)", 86_400_000],
    ["rate(30 days)", 2_592_000_000],
  ])("reads %s as a period of %d ms", (expression, period) => {
    expect(parseScheduleExpression(expression).next(1_000)).toBe(1_000 + period);
  });

  // The expressions AWS answers "Parameter ScheduleExpression is not valid." for (checked
  // against EventBridge by LocalStack's validated tests), and the unit in the wrong number.
  it.each([
    "rate(10 seconds)",
    "rate(10 years)",
    "rate(1 minutes)",
    "rate(1 hours)",
    "rate(1 days)",
    "rate(10 minute)",
    "rate(10 hour)",
    "rate(10 day)",
    "rate()",
    "rate(10)",
    "rate(10 minutess)",
    "rate(foo minutes)",
    "rate(0 minutes)",
    "rate(-10 minutes)",
    "rate(1.5 hours)",
    "rate(10 MINUTES)",
    "rate( 10 minutes )",
    " rate(10 minutes)",
    "every 5 minutes",
  ])("refuses %j as AWS does", (expression) => {
    expect(refused(() => parseScheduleExpression(expression))).toEqual({
      name: "ValidationException",
      message: "Parameter ScheduleExpression is not valid.",
    });
  });

  // 2026-03-04 is a Wednesday; AWS evaluates cron expressions in UTC.
  const from = Date.parse("2026-03-04T10:07:30Z");
  it.each([
    ["cron(0 10 * * ? *)", "2026-03-05T10:00:00.000Z"],
    ["cron(0/15 * * * ? *)", "2026-03-04T10:15:00.000Z"],
    ["cron(1/10 * * * ? *)", "2026-03-04T10:11:00.000Z"],
    ["cron(0 18 ? * MON-FRI *)", "2026-03-04T18:00:00.000Z"],
    ["cron(0 8 1 * ? *)", "2026-04-01T08:00:00.000Z"],
    ["cron(0 12 ? * 1 *)", "2026-03-08T12:00:00.000Z"],
    ["cron(0 12 ? * L *)", "2026-03-07T12:00:00.000Z"],
    ["cron(0 12 ? * 6L *)", "2026-03-27T12:00:00.000Z"],
    ["cron(0 12 ? * 3#2 *)", "2026-03-10T12:00:00.000Z"],
    ["cron(0 12 L * ? *)", "2026-03-31T12:00:00.000Z"],
    ["cron(0 12 15W * ? *)", "2026-03-16T12:00:00.000Z"],
    ["cron(0 8 1 JAN ? 2027)", "2027-01-01T08:00:00.000Z"],
  ])("runs %s next at %s (weekdays 1=SUN…7=SAT, UTC)", (expression, next) => {
    const at = parseScheduleExpression(expression).next(from);
    expect(at === undefined ? undefined : new Date(at).toISOString()).toBe(next);
  });

  it("follows a cron expression from one instant to the next", () => {
    const schedule = parseScheduleExpression("cron(0/30 9-10 ? * MON-FRI *)");
    const first = schedule.next(Date.parse("2026-03-06T10:45:00Z")) ?? 0;
    const second = schedule.next(first) ?? 0;
    expect([first, second].map((ms) => new Date(ms).toISOString())).toEqual([
      "2026-03-09T09:00:00.000Z",
      "2026-03-09T09:30:00.000Z",
    ]);
  });

  it("has no next instant once a cron expression's years are past", () => {
    expect(parseScheduleExpression("cron(0 8 1 1 ? 2020)").next(from)).toBeUndefined();
  });

  it.each([
    ["both day fields given", "cron(0 10 * * * *)"],
    ["neither day field given", "cron(0 10 ? * ? *)"],
    ["five fields", "cron(0 10 * * ?)"],
    ["seven fields", "cron(0 0 10 * * ? *)"],
    ["a weekday outside 1-7", "cron(0 10 ? * 8 *)"],
    ["two # expressions", "cron(0 12 ? * 3#1,6#3 *)"],
    ["a minute of 60", "cron(60 * * * ? *)"],
    ["an hour of 25", "cron(0 25 * * ? *)"],
    ["a step in day-of-week", "cron(0 10 ? * 1/2 *)"],
    ["a space inside the parentheses", "cron( 0 10 * * ? *)"],
    ["two spaces between fields", "cron(0  10 * * ? *)"],
    ["an upper-case name", "CRON(0 10 * * ? *)"],
  ])("refuses a cron expression with %s", (_, expression) => {
    expect(refused(() => parseScheduleExpression(expression))).toEqual({
      name: "ValidationException",
      message: "Parameter ScheduleExpression is not valid.",
    });
  });
});

describe("PutRule with a schedule", () => {
  it("answers AWS's ValidationException when neither a pattern nor a schedule is given", () => {
    const { events } = service();

    expect(refused(() => events.operations.PutRule({ Name: "nothing" }))).toEqual({
      name: "ValidationException",
      message: "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    });
  });

  it("refuses a schedule on another event bus, as AWS does", () => {
    const { events } = service();

    expect(
      refused(() =>
        events.operations.PutRule({
          Name: "elsewhere",
          EventBusName: "domain-events",
          ScheduleExpression: "rate(5 minutes)",
        }),
      ),
    ).toEqual({
      name: "ValidationException",
      message: "ScheduleExpression is supported only on the default event bus.",
    });
  });

  it("lists a scheduled rule with its ScheduleExpression and no EventPattern", () => {
    const { events } = service();
    const { RuleArn } = events.operations.PutRule({
      Name: "cleanup",
      ScheduleExpression: "rate(5 minutes)",
    });

    expect(RuleArn).toBe("arn:aws:events:us-east-1:000000000000:rule/cleanup");
    expect(events.operations.ListRules().Rules).toEqual([
      {
        Name: "cleanup",
        Arn: RuleArn,
        ScheduleExpression: "rate(5 minutes)",
        State: "ENABLED",
        EventBusName: "default",
      },
    ]);
  });

  it("replaces a pattern with a schedule when the rule is put again without the pattern", () => {
    const { events } = service();
    events.operations.PutRule({ Name: "r", EventPattern: '{"source":["a"]}' });
    events.operations.PutRule({ Name: "r", ScheduleExpression: "rate(1 day)" });

    expect(events.operations.ListRules().Rules[0]).not.toHaveProperty("EventPattern");
    expect(events.operations.ListRules().Rules[0]?.ScheduleExpression).toBe("rate(1 day)");
  });
});

describe("a scheduled rule's ticks", () => {
  it("sends the rule's targets the Scheduled Event AWS sends, one period after the rule was put", async () => {
    const { events, delivered } = service();
    const put = Date.now();
    putScheduledRule(events, "cleanup");

    await until(() => delivered.length >= 2, "two ticks");

    const [first, second] = delivered;
    expect(first?.arn).toBe(FUNCTION);
    expect(first?.input).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: ACCOUNT,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: REGION,
      resources: ["arn:aws:events:us-east-1:000000000000:rule/cleanup"],
      detail: {},
    });
    expect((first?.at ?? 0) - put).toBeGreaterThanOrEqual(PERIOD_MS - 5);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(PERIOD_MS - 20);
    expect(second?.input).not.toEqual(first?.input);
  });

  it("gives a target its Input or InputTransformer, as for any event", async () => {
    const { events, delivered } = service();
    events.operations.PutRule({ Name: "cleanup", ScheduleExpression: "rate(5 minutes)" });
    events.operations.PutTargets({
      Rule: "cleanup",
      Targets: [
        { Id: "constant", Arn: FUNCTION, Input: '{"action":"delete-idle-endpoints"}' },
        {
          Id: "shaped",
          Arn: OTHER_FUNCTION,
          InputTransformer: {
            InputPathsMap: { kind: "$.detail-type", rule: "$.resources[0]" },
            InputTemplate: '{"kind": <kind>, "rule": <rule>}',
          },
        },
      ],
    });

    await events.runSchedule("cleanup");

    expect(delivered.map((d) => d.input)).toEqual([
      { action: "delete-idle-endpoints" },
      { kind: "Scheduled Event", rule: "arn:aws:events:us-east-1:000000000000:rule/cleanup" },
    ]);
  });

  it("fires now with runSchedule, resolving once the deliveries are done", async () => {
    const { events, delivered } = service({
      speedup: 1,
      invoke: async (arn, input) => {
        await sleep(50);
        delivered.push({ arn, input, at: Date.now() });
        return { payload: null };
      },
    });
    putScheduledRule(events, "cleanup");

    await events.runSchedule("cleanup");

    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.input).toMatchObject({ "detail-type": "Scheduled Event" });
  });

  it("refuses runSchedule for a rule that is missing, has no schedule or is disabled", async () => {
    const { events } = service();
    events.operations.PutRule({ Name: "pattern", EventPattern: '{"source":["a"]}' });
    putScheduledRule(events, "off", { State: "DISABLED" });

    await expect(events.runSchedule("missing")).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    await expect(events.runSchedule("pattern")).rejects.toThrow(
      "rule pattern has no ScheduleExpression",
    );
    await expect(events.runSchedule("off")).rejects.toThrow("rule off is DISABLED");
  });

  it("is not routed to other rules' patterns, while a rule with both gets both kinds", async () => {
    const { events, delivered } = service({ speedup: 1 });
    events.operations.PutRule({ Name: "watcher", EventPattern: '{"source":["aws.events"]}' });
    events.operations.PutTargets({ Rule: "watcher", Targets: [{ Id: "w", Arn: OTHER_FUNCTION }] });
    putScheduledRule(events, "both", { EventPattern: '{"source":["app.cleanup"]}' });

    await events.runSchedule("both");
    await events.put({ source: "app.cleanup", "detail-type": "Run now", detail: {} });

    expect(delivered.map((d) => [d.arn, detailType(d.input)])).toEqual([
      [FUNCTION, "Scheduled Event"],
      [FUNCTION, "Run now"],
    ]);
  });

  it("stops when the rule is disabled, and starts again one period after it is enabled", async () => {
    const { events, delivered } = service();
    putScheduledRule(events, "cleanup");
    await until(() => delivered.length >= 1, "a tick");

    events.operations.PutRule({
      Name: "cleanup",
      ScheduleExpression: "rate(1 minute)",
      State: "DISABLED",
    });
    const whenDisabled = delivered.length;
    await sleep(PERIOD_MS * 3);
    const whileDisabled = delivered.length;
    const enabled = Date.now();
    events.operations.PutRule({ Name: "cleanup", ScheduleExpression: "rate(1 minute)" });
    await until(() => delivered.length > whileDisabled, "a tick after enabling");

    expect(whileDisabled).toBe(whenDisabled);
    expect((delivered[whileDisabled]?.at ?? 0) - enabled).toBeGreaterThanOrEqual(PERIOD_MS - 5);
  });

  it("stops when the stack that made the rule no longer has it", async () => {
    const { events, delivered } = service();
    const rule = {
      name: "cleanup",
      scheduleExpression: "rate(1 minute)",
      targets: [{ Id: "cleanup", Arn: FUNCTION }],
    };
    events.applyStackRules("modeldrop", [rule]);
    await until(() => delivered.length >= 1, "a tick");

    events.applyStackRules("modeldrop", []);
    const whenRemoved = delivered.length;
    await sleep(PERIOD_MS * 3);

    expect(delivered).toHaveLength(whenRemoved);
    expect(events.operations.ListRules().Rules).toEqual([]);
  });

  it("keeps a rule another stack or PutRule made when a stack's template drops its own", () => {
    const { events } = service({ start: false });
    events.operations.PutRule({ Name: "by-hand", ScheduleExpression: "rate(1 day)" });
    events.applyStackRules("other", [
      { name: "theirs", scheduleExpression: "rate(1 day)", targets: [] },
    ]);

    events.applyStackRules("modeldrop", []);

    expect(events.operations.ListRules().Rules.map((r) => r.Name)).toEqual(["by-hand", "theirs"]);
  });

  it("refuses a stack whose rule has neither a pattern nor a schedule, naming the rule", () => {
    const { events } = service({ start: false });

    expect(() => events.applyStackRules("modeldrop", [{ name: "empty", targets: [] }])).toThrow(
      "rule empty of the packaged stack was refused: ValidationException: Parameter(s) EventPattern or ScheduleExpression must be specified.",
    );
  });

  it("refuses a stack whose scheduled rule is on another event bus", () => {
    const { events } = service({ start: false });
    const rule = {
      name: "elsewhere",
      scheduleExpression: "rate(1 day)",
      eventBusName: "domain-events",
      targets: [],
    };

    expect(() => events.applyStackRules("modeldrop", [rule])).toThrow(
      "rule elsewhere of the packaged stack was refused: ValidationException: ScheduleExpression is supported only on the default event bus.",
    );
  });

  it("does not fire before startSchedules, so no tick comes before the stack's functions exist", async () => {
    const { events, delivered } = service({ start: false });
    putScheduledRule(events, "cleanup");
    await sleep(PERIOD_MS * 3);
    const beforeStart = delivered.length;

    events.startSchedules();
    await until(() => delivered.length >= 1, "a tick after the start");

    expect(beforeStart).toBe(0);
  });

  it("waits out a period longer than setTimeout can (rate(30 days)) instead of firing at once", async () => {
    const { events, delivered } = service({ speedup: 1 });
    events.operations.PutRule({ Name: "monthly", ScheduleExpression: "rate(30 days)" });
    events.operations.PutTargets({ Rule: "monthly", Targets: [{ Id: "m", Arn: FUNCTION }] });

    await sleep(50);

    expect(delivered).toEqual([]);
  });
});

describe("scheduled rules across a stop and a restart", () => {
  it("clears every timer on stopSchedules: no tick after it, and nothing left to hold the process", async () => {
    const { events, delivered } = service();
    putScheduledRule(events, "cleanup");
    putScheduledRule(events, "report");
    await until(() => delivered.length >= 2, "ticks");

    events.stopSchedules();
    await events.settle();
    const whenStopped = delivered.length;
    events.operations.PutRule({ Name: "late", ScheduleExpression: "rate(1 minute)" });
    await sleep(PERIOD_MS * 3);

    expect(delivered).toHaveLength(whenStopped);
  });

  it("never keeps the process alive with a timer, even before it is stopped", () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const { events } = service({ speedup: 1 });

    putScheduledRule(events, "cleanup");

    expect(timers()).toBe(before);
  });

  it("keeps its rules in the state folder and arms them again when a new service starts there", async () => {
    const first = service();
    putScheduledRule(
      first.events,
      "cleanup",
      {},
      { Id: "cleanup", Arn: FUNCTION, Input: '{"n":1}' },
    );
    first.events.stopSchedules();

    const restarted = service({ stateDir: first.stateDir });
    await until(() => restarted.delivered.length >= 1, "a tick after the restart");

    expect(restarted.events.operations.ListRules().Rules.map((r) => r.ScheduleExpression)).toEqual([
      "rate(1 minute)",
    ]);
    expect(restarted.delivered[0]).toMatchObject({ arn: FUNCTION, input: { n: 1 } });
    expect(first.delivered).toEqual([]);
  });

  it("delivers after a restart a tick the previous process had not finished delivering", async () => {
    const first = service({ speedup: 1, invoke: () => new Promise(() => {}) });
    putScheduledRule(first.events, "cleanup");
    void first.events.runSchedule("cleanup");
    first.events.stopSchedules();
    services.splice(services.indexOf(first.events), 1); // it "crashed": never settles

    const restarted = service({ stateDir: first.stateDir, speedup: 1 });
    const resumed = restarted.events.resumePending();
    await restarted.events.settle();

    expect(resumed).toBe(1);
    expect(restarted.delivered.map((d) => d.input)).toEqual([
      expect.objectContaining({
        "detail-type": "Scheduled Event",
        resources: [expect.any(String)],
      }),
    ]);
  });

  it("refuses a scheduleSpeedup below 1", () => {
    expect(() => service({ speedup: 0.5 })).toThrow(
      "scheduleSpeedup must be a number ≥ 1, not 0.5",
    );
  });
});
