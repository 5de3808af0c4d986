// The EventBridge router: rules with event patterns on the default bus, each target invoked
// with its input transformation. Lambda targets are invoked asynchronously, as EventBridge
// does; a delivery that fails after retries goes to the target's dead-letter list on disk.
// Every event is written to disk before `put` returns (so before the request that caused it is
// answered) and removed once all its deliveries are done: a crash loses no event, and the next
// start delivers what is left (at least once, as EventBridge does).
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  type EventPattern,
  type InputTransformer,
  matchesPattern,
  parseEventPattern,
  targetInput,
} from "./event-pattern.js";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord } from "./http.js";
import { type JsonService, requireString } from "./json-service.js";
import { PendingFolder } from "./pending.js";
import type { InvokeResult } from "./stepfunctions.js";

export interface Target {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: InputTransformer;
}

interface Rule {
  name: string;
  pattern: EventPattern;
  patternText: string;
  state: "ENABLED" | "DISABLED";
  targets: Target[];
}

/** Delivers a target's input to the service its ARN names (a Lambda function, a state machine…). */
export type TargetInvoker = (arn: string, input: unknown) => Promise<InvokeResult>;

export interface EventDelivery {
  invokeTarget: TargetInvoker;
  /** A target that still failed after its retries (it is also in `eventbridge/dead-letters.json`). */
  onDeliveryError?: (rule: string, target: string, error: string) => void;
}

const RETRIES = 2;

export class EventBridgeService implements JsonService {
  readonly contentType = "application/x-amz-json-1.1";
  private readonly rules = new Map<string, Rule>();
  private readonly deadLetterPath: string;
  private readonly pending: PendingFolder;
  private inFlight = new Set<Promise<void>>();
  private sequence = 0;
  private readonly invokeTarget: TargetInvoker;
  private readonly onDeliveryError: NonNullable<EventDelivery["onDeliveryError"]>;

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
    delivery: EventDelivery,
  ) {
    this.invokeTarget = delivery.invokeTarget;
    this.onDeliveryError = delivery.onDeliveryError ?? (() => {});
    this.deadLetterPath = join(stateDir, "eventbridge", "dead-letters.json");
    this.pending = new PendingFolder(join(stateDir, "eventbridge", "pending"));
  }

  putRule(name: string, patternText: string, state: "ENABLED" | "DISABLED" = "ENABLED"): string {
    const existing = this.rules.get(name);
    this.rules.set(name, {
      name,
      pattern: parseEventPattern(patternText),
      patternText,
      state,
      targets: existing?.targets ?? [],
    });
    return `arn:aws:events:${this.region}:${this.account}:rule/${name}`;
  }

  putTargets(rule: string, targets: Target[]): void {
    const found = this.rule(rule);
    const ids = new Set(targets.map((t) => t.Id));
    found.targets = [...found.targets.filter((t) => !ids.has(t.Id)), ...targets];
  }

  /**
   * Routes one event to every matching rule's targets; resolves when all deliveries are done.
   * The event is on disk when this returns.
   */
  put(event: Record<string, unknown>): Promise<void> {
    // Names sort in the order events were put, across restarts too.
    this.sequence += 1;
    const name = `${Date.now().toString().padStart(14, "0")}-${String(this.sequence).padStart(9, "0")}-${randomUUID()}`;
    this.pending.write(name, event);
    return this.track(name, event);
  }

  /**
   * Delivers the events a previous process accepted but did not finish delivering (it crashed
   * or was stopped first), oldest first. Call it once the rules and targets exist.
   */
  resumePending(): number {
    let resumed = 0;
    for (const { name, value } of this.pending.takeLeftOver()) {
      if (!isRecord(value)) continue;
      void this.track(name, value);
      resumed += 1;
    }
    return resumed;
  }

  private track(name: string, event: Record<string, unknown>): Promise<void> {
    const delivery = this.deliver(event).finally(() => this.pending.remove(name));
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  /** Waits for deliveries still under way (used on shutdown and by tests). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  readonly operations = {
    PutRule: (input: Record<string, unknown>) => {
      const pattern = input.EventPattern;
      if (typeof pattern !== "string")
        throw new AwsError(
          "ValidationException",
          "the local cloud supports rules with an EventPattern only (no schedules)",
        );
      return {
        RuleArn: this.putRule(
          requireString(input, "Name"),
          pattern,
          input.State === "DISABLED" ? "DISABLED" : "ENABLED",
        ),
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
        EventPattern: r.patternText,
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
          time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
          region: this.region,
          resources: Array.isArray(entry.Resources) ? entry.Resources : [],
          detail,
        });
        return { EventId: id };
      });
      return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
    },
  };

  private async deliver(event: Record<string, unknown>): Promise<void> {
    const deliveries: Promise<void>[] = [];
    for (const rule of this.rules.values()) {
      if (rule.state !== "ENABLED" || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) deliveries.push(this.deliverTo(rule, target, event));
    }
    await Promise.all(deliveries);
  }

  private async deliverTo(
    rule: Rule,
    target: Target,
    event: Record<string, unknown>,
  ): Promise<void> {
    const input = JSON.parse(targetInput(target, event)) as unknown;
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

function toTarget(value: Record<string, unknown>): Target {
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
