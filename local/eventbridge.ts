// The EventBridge router: rules on the default bus, each target invoked with its input
// transformation. A rule has an event pattern, a schedule, or both (as PutRule allows): a
// pattern rule gets the events put on the bus that match it, a scheduled rule sends its targets
// a "Scheduled Event" of its own on every tick (never routed through other rules' patterns, as
// on AWS). Lambda targets are invoked asynchronously, as EventBridge does; a delivery that fails
// after retries goes to the target's dead-letter list on disk. Every event is written to disk
// before `put` returns (so before the request that caused it is answered), a scheduled one
// before it is delivered, and removed once all its deliveries are done: a crash loses no event,
// and the next start delivers what is left (at least once, as EventBridge does).
//
// Rules and their targets are kept in `eventbridge/rules.json`, as AWS keeps them: the next
// start finds them again, and `startSchedules` arms their timers.
//
// Schedules: `rate(N unit)` as AWS parses it, and `cron(…)` with AWS's six fields, evaluated by
// croner (a maintained, dependency-free parser with a year field, Quartz weekday numbering
// 1=SUN…7=SAT and L/W/#). AWS's own rules that croner does not know (one of day-of-month and
// day-of-week must be `?`, the characters each field takes, day-of-week 1-7, one `#` expression)
// are checked here first; AWS evaluates cron in UTC, and so does this.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Cron } from "croner";
import {
  type EventPattern,
  type InputTransformer,
  matchesPattern,
  parseEventPattern,
  targetInput,
} from "./event-pattern.js";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord } from "./http.js";
import { type JsonService, optionalString, requireString } from "./json-service.js";
import { PendingFolder } from "./pending.js";
import type { InvokeResult } from "./stepfunctions.js";

export interface Target {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: InputTransformer;
}

type RuleState = "ENABLED" | "DISABLED";

/** What PutRule (or a template's AWS::Events::Rule) says a rule is: a pattern, a schedule, or both. */
export interface RuleDefinition {
  /** The event pattern's JSON text. */
  eventPattern?: string | undefined;
  /** `rate(…)` or `cron(…)`. */
  scheduleExpression?: string | undefined;
  state?: RuleState | undefined;
  /** The bus's name or ARN; only the default bus is served, and only it takes schedules. */
  eventBusName?: string | undefined;
}

/** A rule of a stack's template, with the targets the template gives it. */
export interface StackRule extends RuleDefinition {
  name: string;
  targets: Target[];
}

interface Rule {
  name: string;
  arn: string;
  pattern?: { text: string; parsed: EventPattern };
  schedule?: Schedule;
  state: RuleState;
  targets: Target[];
  /** The stack whose template defines the rule, for `applyStackRules` to delete it when the template drops it. */
  stack?: string;
}

/** A rule as `eventbridge/rules.json` keeps it. */
interface StoredRule {
  name: string;
  eventPattern?: string;
  scheduleExpression?: string;
  state: RuleState;
  targets: Target[];
  stack?: string;
}

/** Delivers a target's input to the service its ARN names (a Lambda function, a state machine…). */
export type TargetInvoker = (arn: string, input: unknown) => Promise<InvokeResult>;

export interface EventDelivery {
  invokeTarget: TargetInvoker;
  /** A target that still failed after its retries (it is also in `eventbridge/dead-letters.json`). */
  onDeliveryError?: (rule: string, target: string, error: string) => void;
}

export interface EventBridgeOptions extends EventDelivery {
  /**
   * Divides every schedule's period (a number ≥ 1, default 1): with 300, `rate(5 minutes)` fires
   * every second and a cron schedule runs through its instants 300 times faster. For tests and
   * for trying a scheduled function locally; AWS has nothing like it.
   */
  scheduleSpeedup?: number | undefined;
}

const RETRIES = 2;
/** setTimeout's longest wait (about 24.8 days); a longer one (`rate(30 days)`) is waited in parts. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const INVALID_SCHEDULE = "Parameter ScheduleExpression is not valid.";

/** A scheduled rule's firing that is on disk until delivered (a put event is stored as itself). */
interface ScheduledDelivery {
  scheduledRule: string;
  event: Record<string, unknown>;
}

export class EventBridgeService implements JsonService {
  readonly contentType = "application/x-amz-json-1.1";
  private readonly rules = new Map<string, Rule>();
  private readonly rulesPath: string;
  private readonly deadLetterPath: string;
  private readonly pending: PendingFolder;
  private inFlight = new Set<Promise<void>>();
  private sequence = 0;
  private readonly invokeTarget: TargetInvoker;
  private readonly onDeliveryError: NonNullable<EventDelivery["onDeliveryError"]>;
  private readonly scheduleSpeedup: number;
  /** One timer per armed rule (ENABLED, with a schedule), by rule name. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private schedules: "not started" | "running" | "stopped" = "not started";

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
    options: EventBridgeOptions,
  ) {
    this.invokeTarget = options.invokeTarget;
    this.onDeliveryError = options.onDeliveryError ?? (() => {});
    const speedup = options.scheduleSpeedup ?? 1;
    if (!Number.isFinite(speedup) || speedup < 1)
      throw new Error(`scheduleSpeedup must be a number ≥ 1, not ${String(speedup)}`);
    this.scheduleSpeedup = speedup;
    this.rulesPath = join(stateDir, "eventbridge", "rules.json");
    this.deadLetterPath = join(stateDir, "eventbridge", "dead-letters.json");
    this.pending = new PendingFolder(join(stateDir, "eventbridge", "pending"));
    for (const stored of storedRules(readJsonFile(this.rulesPath, []))) {
      const rule = this.defineRule(stored.name, stored);
      rule.targets = stored.targets;
      if (stored.stack !== undefined) rule.stack = stored.stack;
      this.rules.set(rule.name, rule);
    }
  }

  /**
   * Creates or replaces a rule, as PutRule does: what the definition leaves out is gone (a
   * pattern replaced by a schedule no longer matches events), the targets stay. Its timer is
   * re-armed: the first tick comes one period after this call.
   */
  putRule(name: string, definition: RuleDefinition): string {
    const rule = this.defineRule(name, definition);
    const existing = this.rules.get(name);
    rule.targets = existing?.targets ?? [];
    if (existing?.stack !== undefined) rule.stack = existing.stack;
    this.rules.set(name, rule);
    this.save();
    this.arm(rule);
    return rule.arn;
  }

  putTargets(rule: string, targets: Target[]): void {
    const found = this.rule(rule);
    const ids = new Set(targets.map((t) => t.Id));
    found.targets = [...found.targets.filter((t) => !ids.has(t.Id)), ...targets];
    this.save();
  }

  /**
   * The rules of a stack's template as it is now, each with exactly the template's targets; a
   * rule that an earlier version of the same stack made and this one no longer has is deleted
   * (its timer with it), as a stack update deletes a resource removed from the template.
   */
  applyStackRules(stack: string, rules: StackRule[]): void {
    // Every rule is validated before any changes: a refused template leaves the rules as they were.
    const defined = rules.map((definition) => {
      try {
        const rule = this.defineRule(definition.name, definition);
        rule.targets = definition.targets;
        rule.stack = stack;
        return rule;
      } catch (error) {
        // CloudFormation fails the stack on the resource EventBridge refused: name it.
        if (!(error instanceof AwsError)) throw error;
        throw new Error(
          `rule ${definition.name} of the packaged stack was refused: ${error.code}: ${error.message}`,
          { cause: error },
        );
      }
    });
    const names = new Set(defined.map((rule) => rule.name));
    for (const rule of [...this.rules.values()])
      if (rule.stack === stack && !names.has(rule.name)) this.deleteRule(rule.name);
    for (const rule of defined) {
      this.rules.set(rule.name, rule);
      this.arm(rule);
    }
    this.save();
  }

  /** Deletes a rule and its targets, and clears its timer. */
  deleteRule(name: string): void {
    this.disarm(name);
    if (this.rules.delete(name)) this.save();
  }

  /**
   * Arms the timers of every ENABLED scheduled rule (those kept from an earlier run included),
   * and of every rule put from now on. The local cloud calls it once the stack is applied, so
   * no tick comes before the functions its targets name exist; until then, rules are kept but
   * do not fire.
   */
  startSchedules(): void {
    if (this.schedules !== "not started") return;
    this.schedules = "running";
    for (const rule of this.rules.values()) this.arm(rule);
  }

  /** Clears every timer for good (the local cloud's stop path): no rule fires after this. */
  stopSchedules(): void {
    this.schedules = "stopped";
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Fires a scheduled rule now, as its timer would, and resolves when its deliveries are done.
   * The local cloud's own call (AWS has none), for tests and for trying a scheduled function;
   * the rule's timer keeps its cadence.
   */
  async runSchedule(ruleName: string): Promise<void> {
    const rule = this.rule(ruleName);
    if (!rule.schedule) throw new Error(`rule ${ruleName} has no ScheduleExpression`);
    if (rule.state !== "ENABLED") throw new Error(`rule ${ruleName} is DISABLED: it does not fire`);
    await this.fire(rule, Date.now());
  }

  /**
   * Routes one event to every matching rule's targets; resolves when all deliveries are done.
   * The event is on disk when this returns.
   */
  put(event: Record<string, unknown>): Promise<void> {
    const name = this.pendingName();
    this.pending.write(name, event);
    return this.track(name, () => this.deliver(event));
  }

  /**
   * Delivers the events a previous process accepted but did not finish delivering (it crashed
   * or was stopped first), oldest first. Call it once the rules and targets exist.
   */
  resumePending(): number {
    let resumed = 0;
    for (const { name, value } of this.pending.takeLeftOver()) {
      if (isScheduledDelivery(value)) {
        void this.track(name, () => this.deliverScheduled(value.scheduledRule, value.event));
      } else if (isRecord(value)) {
        void this.track(name, () => this.deliver(value));
      } else continue;
      resumed += 1;
    }
    return resumed;
  }

  /** Names sort in the order events were put, across restarts too. */
  private pendingName(): string {
    this.sequence += 1;
    return `${Date.now().toString().padStart(14, "0")}-${String(this.sequence).padStart(9, "0")}-${randomUUID()}`;
  }

  private track(name: string, deliver: () => Promise<void>): Promise<void> {
    const delivery = deliver().finally(() => this.pending.remove(name));
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  /**
   * Waits for deliveries still under way (used on shutdown and by tests). While schedules run,
   * ticks keep adding deliveries: the stop path stops them first.
   */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  readonly operations = {
    PutRule: (input: Record<string, unknown>) => {
      const name = requireString(input, "Name");
      const eventPattern = nonEmpty(optionalString(input, "EventPattern"));
      const scheduleExpression = nonEmpty(optionalString(input, "ScheduleExpression"));
      return {
        RuleArn: this.putRule(name, {
          eventPattern,
          scheduleExpression,
          state: input.State === "DISABLED" ? "DISABLED" : "ENABLED",
          eventBusName: optionalString(input, "EventBusName"),
        }),
      };
    },
    PutTargets: (input: Record<string, unknown>) => {
      const targets = Array.isArray(input.Targets)
        ? input.Targets.filter(isRecord).map(toTarget)
        : [];
      this.putTargets(requireString(input, "Rule"), targets);
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    ListRules: () => ({
      Rules: [...this.rules.values()].map((r) => ({
        Name: r.name,
        Arn: r.arn,
        ...(r.pattern ? { EventPattern: r.pattern.text } : {}),
        ...(r.schedule ? { ScheduleExpression: r.schedule.expression } : {}),
        State: r.state,
        EventBusName: "default",
      })),
    }),
    ListTargetsByRule: (input: Record<string, unknown>) => ({
      Targets: this.rule(requireString(input, "Rule")).targets,
    }),
    PutEvents: (input: Record<string, unknown>) => {
      const entries = Array.isArray(input.Entries) ? input.Entries.filter(isRecord) : [];
      const results = entries.map((entry) => {
        const id = randomUUID();
        let detail: unknown;
        try {
          detail = JSON.parse(String(entry.Detail ?? "{}"));
        } catch {
          return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        }
        void this.put({
          version: "0",
          id,
          "detail-type": entry.DetailType,
          source: entry.Source,
          account: this.account,
          time: eventTime(Date.now()),
          region: this.region,
          resources: Array.isArray(entry.Resources) ? entry.Resources : [],
          detail,
        });
        return { EventId: id };
      });
      return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
    },
  };

  /** A rule without targets, validated as PutRule validates it. */
  private defineRule(name: string, definition: RuleDefinition): Rule {
    const { eventPattern, scheduleExpression, eventBusName: bus } = definition;
    if (eventPattern === undefined && scheduleExpression === undefined)
      throw new AwsError(
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
      );
    if (
      scheduleExpression !== undefined &&
      bus !== undefined &&
      bus !== "default" &&
      bus !== `arn:aws:events:${this.region}:${this.account}:event-bus/default`
    )
      throw new AwsError(
        "ValidationException",
        "ScheduleExpression is supported only on the default event bus.",
      );
    const rule: Rule = {
      name,
      arn: `arn:aws:events:${this.region}:${this.account}:rule/${name}`,
      state: definition.state ?? "ENABLED",
      targets: [],
    };
    if (eventPattern !== undefined)
      rule.pattern = { text: eventPattern, parsed: parseEventPattern(eventPattern) };
    if (scheduleExpression !== undefined)
      rule.schedule = parseScheduleExpression(scheduleExpression);
    return rule;
  }

  private save(): void {
    const stored: StoredRule[] = [...this.rules.values()].map((rule) => ({
      name: rule.name,
      ...(rule.pattern ? { eventPattern: rule.pattern.text } : {}),
      ...(rule.schedule ? { scheduleExpression: rule.schedule.expression } : {}),
      state: rule.state,
      targets: rule.targets,
      ...(rule.stack === undefined ? {} : { stack: rule.stack }),
    }));
    writeJsonAtomic(this.rulesPath, stored);
  }

  /**
   * (Re)arms the rule's timer: the first tick one period after now, then on its schedule. The
   * ticks follow a clock that runs `scheduleSpeedup` times faster from this moment; ticks missed
   * while the process was stalled are skipped, not replayed in a burst.
   */
  private arm(rule: Rule): void {
    this.disarm(rule.name);
    if (this.schedules !== "running" || !rule.schedule || rule.state !== "ENABLED") return;
    const now = Date.now();
    this.armNext(rule, rule.schedule, { scheduled: now, real: now });
  }

  private armNext(rule: Rule, schedule: Schedule, from: { scheduled: number; real: number }): void {
    const speedup = this.scheduleSpeedup;
    let scheduled = schedule.next(from.scheduled);
    if (scheduled === undefined) return;
    let due = from.real + (scheduled - from.scheduled) / speedup;
    const now = Date.now();
    if (due < now) {
      const scheduledNow = from.scheduled + (now - from.real) * speedup;
      scheduled = schedule.next(scheduledNow);
      if (scheduled === undefined) return;
      due = now + (scheduled - scheduledNow) / speedup;
    }
    const tick = { scheduled, real: due };
    this.waitUntil(rule.name, due, () => {
      if (this.rules.get(rule.name) !== rule || this.schedules !== "running") return;
      try {
        void this.fire(rule, due);
      } catch (error) {
        // A tick that could not even be stored (the state folder gone) must not end the process.
        this.onDeliveryError(
          rule.name,
          rule.arn,
          error instanceof Error ? error.message : String(error),
        );
      }
      this.armNext(rule, schedule, tick);
    });
  }

  private waitUntil(name: string, due: number, then: () => void): void {
    const wait = Math.max(0, due - Date.now());
    const timer = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.waitUntil(name, due, then) : then()),
      Math.min(wait, MAX_TIMER_MS),
    );
    // A schedule never keeps the process alive: the local cloud (or a test) ends when it is done.
    timer.unref();
    this.timers.set(name, timer);
  }

  private disarm(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** One tick of a scheduled rule: the event AWS sends, stored, then delivered to the rule's targets. */
  private fire(rule: Rule, at: number): Promise<void> {
    const event: Record<string, unknown> = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: this.account,
      time: eventTime(at),
      region: this.region,
      resources: [rule.arn],
      detail: {},
    };
    const name = this.pendingName();
    const stored: ScheduledDelivery = { scheduledRule: rule.name, event };
    this.pending.write(name, stored);
    return this.track(name, () => this.deliverScheduled(rule.name, event));
  }

  private async deliver(event: Record<string, unknown>): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const rule of this.rules.values()) {
      if (rule.state !== "ENABLED" || !rule.pattern || !matchesPattern(rule.pattern.parsed, event))
        continue;
      for (const target of rule.targets) deliveries.push(this.deliverTo(rule, target, event));
    }
    await Promise.all(deliveries);
  }

  /** A scheduled event goes to its own rule's targets only (gone, or disabled since: nowhere). */
  private async deliverScheduled(ruleName: string, event: Record<string, unknown>): Promise<void> {
    const rule = this.rules.get(ruleName);
    if (rule?.state !== "ENABLED") return;
    await Promise.all(rule.targets.map((target) => this.deliverTo(rule, target, event)));
  }

  private async deliverTo(
    rule: Rule,
    target: Target,
    event: Record<string, unknown>,
  ): Promise<void> {
    const input = JSON.parse(targetInput(target, event, rule.name)) as unknown;
    let lastError = "";
    for (let attempt = 0; attempt <= RETRIES; attempt += 1) {
      try {
        const result = await this.invokeTarget(target.Arn, input);
        // EventBridge invokes Lambda asynchronously: a function error is retried by Lambda (twice).
        if (!result.error) return;
        lastError = `${result.error.errorType}: ${result.error.errorMessage}`;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
    this.onDeliveryError(rule.name, target.Arn, lastError);
    const letters = readJsonFile(this.deadLetterPath, []) as unknown[];
    letters.push({
      rule: rule.name,
      target: target.Arn,
      error: lastError,
      event,
      at: new Date().toISOString(),
    });
    writeJsonAtomic(this.deadLetterPath, letters);
  }

  private rule(name: string): Rule {
    const rule = this.rules.get(name);
    if (!rule)
      throw new AwsError(
        "ResourceNotFoundException",
        `Rule ${name} does not exist on EventBus default.`,
      );
    return rule;
  }
}

/** A parsed ScheduleExpression. */
export interface Schedule {
  expression: string;
  /** The first instant on the schedule after `after` (ms since the epoch); undefined when none is left. */
  next(after: number): number | undefined;
}

const RATE_UNITS: Record<string, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/**
 * `rate(N unit)` or `cron(fields)` as EventBridge accepts them, or AWS's ValidationException
 * "Parameter ScheduleExpression is not valid.". A rate takes a positive integer and the singular
 * unit for 1 (`rate(1 hour)`), the plural otherwise (`rate(5 minutes)`), lower case, no extra
 * spaces. A rate counts from the moment its rule is put.
 */
export function parseScheduleExpression(expression: string): Schedule {
  const rate = /^rate\(([1-9][0-9]*) (minute|hour|day)(s?)\)$/.exec(expression);
  if (rate) {
    const [, count, unit, plural] = rate;
    const n = Number(count);
    const unitMs = RATE_UNITS[unit ?? ""];
    if (unitMs === undefined || (n === 1) !== (plural === "") || !Number.isSafeInteger(n * unitMs))
      throw new AwsError("ValidationException", INVALID_SCHEDULE);
    const periodMs = n * unitMs;
    return { expression, next: (after) => after + periodMs };
  }
  const cron = /^cron\((\S+(?: \S+)*)\)$/.exec(expression);
  if (cron?.[1]) return cronSchedule(expression, cron[1].split(" "));
  throw new AwsError("ValidationException", INVALID_SCHEDULE);
}

/** The characters each of AWS's six cron fields takes (its cron expressions reference). */
const CRON_FIELDS = [
  /^[0-9,\-*/]+$/, // minutes
  /^[0-9,\-*/]+$/, // hours
  /^[0-9,\-*?/LW]+$/, // day-of-month
  /^[0-9A-Z,\-*/]+$/i, // month: 1-12 or JAN-DEC
  /^[0-9A-Z,\-*?L#]+$/i, // day-of-week: 1-7 or SUN-SAT
  /^[0-9,\-*/]+$/, // year
];

function cronSchedule(expression: string, fields: string[]): Schedule {
  const invalid = () => new AwsError("ValidationException", INVALID_SCHEDULE);
  if (fields.length !== 6 || fields.some((field, i) => !CRON_FIELDS[i]?.test(field)))
    throw invalid();
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // One of the two day fields is `?` and the other is not: AWS's rule, so croner's choice of
  // AND or OR between them never matters.
  if ((dayOfMonth === "?") === (dayOfWeek === "?")) throw invalid();
  // `3#1,6#3` is two expressions, which AWS refuses; weekdays are 1-7 (the number after `#` is
  // the week of the month, which croner checks).
  if (dayOfWeek.includes("#") && dayOfWeek.includes(",")) throw invalid();
  const weekdays = dayOfWeek.replace(/#[0-9]+/g, "").match(/[0-9]+/g) ?? [];
  if (weekdays.some((n) => Number(n) < 1 || Number(n) > 7)) throw invalid();
  const days = (field: string) => (field === "?" ? "*" : field);
  // `L` alone in day-of-week is the last day of the week, Saturday (7 in Quartz numbering).
  const weekday = dayOfWeek === "L" ? "7" : days(dayOfWeek);
  let pattern: Cron;
  try {
    pattern = new Cron(["0", minutes, hours, days(dayOfMonth), month, weekday, year].join(" "), {
      mode: "7-part",
      alternativeWeekdays: true,
      // AWS writes increments from a start value (`0/15`, `1/10`), which croner calls sloppy.
      sloppyRanges: true,
      domAndDow: true,
      utcOffset: 0,
      paused: true,
    });
  } catch {
    throw invalid();
  }
  return {
    expression,
    next: (after) => pattern.nextRun(new Date(after))?.getTime(),
  };
}

/** An event's `time`: ISO 8601 to the second, as EventBridge writes it. */
function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

function isScheduledDelivery(value: unknown): value is ScheduledDelivery {
  return isRecord(value) && typeof value.scheduledRule === "string" && isRecord(value.event);
}

/** The rules `eventbridge/rules.json` holds (written by `save`; absent before the first rule). */
function storedRules(value: unknown): StoredRule[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((entry) => {
    const stored: StoredRule = {
      name: String(entry.name),
      state: entry.state === "DISABLED" ? "DISABLED" : "ENABLED",
      targets: Array.isArray(entry.targets) ? entry.targets.filter(isRecord).map(toTarget) : [],
    };
    if (typeof entry.eventPattern === "string") stored.eventPattern = entry.eventPattern;
    if (typeof entry.scheduleExpression === "string")
      stored.scheduleExpression = entry.scheduleExpression;
    if (typeof entry.stack === "string") stored.stack = entry.stack;
    return stored;
  });
}

/** A target as PutTargets (or a template's `Targets`) gives it. */
export function toTarget(value: Record<string, unknown>): Target {
  const target: Target = { Id: String(value.Id), Arn: String(value.Arn) };
  if (typeof value.Input === "string") target.Input = value.Input;
  if (typeof value.InputPath === "string") target.InputPath = value.InputPath;
  if (
    isRecord(value.InputTransformer) &&
    typeof value.InputTransformer.InputTemplate === "string"
  ) {
    target.InputTransformer = {
      InputTemplate: value.InputTransformer.InputTemplate,
      ...(isRecord(value.InputTransformer.InputPathsMap)
        ? { InputPathsMap: value.InputTransformer.InputPathsMap as Record<string, string> }
        : {}),
    };
  }
  return target;
}
