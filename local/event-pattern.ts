// Amazon EventBridge event patterns and target input transformation, as AWS documents them:
// every field of a pattern must match (AND); a field's list matches when any element does (OR);
// leaves are exact values or the content filters (prefix, suffix, equals-ignore-case,
// anything-but, numeric, exists, wildcard); `$or` combines sub-patterns.
import { AwsError, isRecord } from "./http.js";

export type EventPattern = Record<string, unknown>;

/** PutRule's answer to a pattern EventBridge would refuse. */
export class InvalidEventPattern extends AwsError {
  constructor(message: string) {
    super("InvalidEventPatternException", message);
  }
}

export interface InputTransformer {
  InputPathsMap?: Record<string, string>;
  InputTemplate: string;
}

export function parseEventPattern(text: string | object): EventPattern {
  let pattern: unknown = text;
  if (typeof text === "string") {
    try {
      pattern = JSON.parse(text);
    } catch {
      throw new InvalidEventPattern("Event pattern is not valid JSON");
    }
  }
  if (!isRecord(pattern)) throw new InvalidEventPattern("Event pattern must be a JSON object");
  checkPattern(pattern, "");
  return pattern;
}

function checkPattern(pattern: Record<string, unknown>, path: string): void {
  for (const [field, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${field}` : field;
    if (field === "$or") {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isRecord))
        throw new InvalidEventPattern(`$or at ${at} must list at least two patterns`);
      for (const sub of value) checkPattern(sub, path);
    } else if (isRecord(value)) {
      checkPattern(value, at);
    } else if (!Array.isArray(value)) {
      throw new InvalidEventPattern(
        `Event pattern field ${at} must be an array or an object, not ${JSON.stringify(value)}`,
      );
    } else {
      for (const rule of value.filter(isRecord)) {
        const kinds = Object.keys(rule);
        const unknown = kinds.find((kind) => !FILTERS.has(kind));
        if (unknown !== undefined || kinds.length !== 1)
          throw new InvalidEventPattern(
            `Unrecognized match type ${unknown ?? kinds.join(", ")} at ${at} (the local cloud knows ${[...FILTERS].join(", ")})`,
          );
      }
    }
  }
}

const FILTERS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "anything-but",
  "numeric",
  "exists",
  "wildcard",
]);

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === "$or")
      return (
        Array.isArray(expected) &&
        expected.some((sub) => isRecord(sub) && matchesPattern(sub, event))
      );
    const present = isRecord(event) && field in event;
    const actual = present ? event[field] : undefined;
    if (isRecord(expected)) return present && matchesPattern(expected, actual);
    if (!Array.isArray(expected)) return false;
    return expected.some((rule) => matchesRule(rule, actual, present));
  });
}

/** One element of a pattern list against the event's value (a value list matches if any element does). */
function matchesRule(rule: unknown, actual: unknown, present: boolean): boolean {
  if (isRecord(rule) && "exists" in rule) return rule.exists === (present && actual !== undefined);
  if (!present) return false;
  if (isRecord(rule) && "anything-but" in rule) {
    const values = Array.isArray(actual) ? actual : [actual];
    return values.every((v) => !anythingButMatches(rule["anything-but"], v));
  }
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((v) => matchesLeaf(rule, v));
}

function anythingButMatches(excluded: unknown, value: unknown): boolean {
  if (Array.isArray(excluded)) return excluded.some((e) => matchesLeaf(e, value));
  return matchesLeaf(excluded, value);
}

function matchesLeaf(rule: unknown, value: unknown): boolean {
  if (!isRecord(rule)) return rule === value;
  if ("prefix" in rule)
    return typeof value === "string" && textFilter(rule.prefix, value, (v, p) => v.startsWith(p));
  if ("suffix" in rule)
    return typeof value === "string" && textFilter(rule.suffix, value, (v, s) => v.endsWith(s));
  if ("equals-ignore-case" in rule)
    return (
      typeof value === "string" &&
      typeof rule["equals-ignore-case"] === "string" &&
      value.toLowerCase() === rule["equals-ignore-case"].toLowerCase()
    );
  if ("wildcard" in rule)
    return (
      typeof value === "string" &&
      typeof rule.wildcard === "string" &&
      wildcard(rule.wildcard).test(value)
    );
  if ("numeric" in rule)
    return typeof value === "number" && Array.isArray(rule.numeric) && numeric(rule.numeric, value);
  return false;
}

/** `{prefix: "x"}` or `{prefix: {"equals-ignore-case": "x"}}` (and the same for suffix). */
function textFilter(
  filter: unknown,
  value: string,
  test: (value: string, part: string) => boolean,
): boolean {
  if (typeof filter === "string") return test(value, filter);
  if (isRecord(filter) && typeof filter["equals-ignore-case"] === "string")
    return test(value.toLowerCase(), filter["equals-ignore-case"].toLowerCase());
  return false;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`, "s");
}

function numeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const operator = conditions[i];
    const bound = Number(conditions[i + 1]);
    const ok =
      operator === "="
        ? value === bound
        : operator === "<"
          ? value < bound
          : operator === "<="
            ? value <= bound
            : operator === ">"
              ? value > bound
              : operator === ">="
                ? value >= bound
                : false;
    if (!ok) return false;
  }
  return true;
}

/** A JSONPath of the simple form EventBridge accepts (`$.detail.object.key`, `$.detail['version-id']`, `$.resources[0]`). */
export function readPath(event: unknown, path: string): unknown {
  if (path === "$") return event;
  if (!path.startsWith("$")) return undefined;
  const parts = [...path.slice(1).matchAll(/\.([^.[\]]+)|\['([^']+)'\]|\[(\d+)\]/g)].map(
    (m) => m[1] ?? m[2] ?? Number(m[3]),
  );
  let node: unknown = event;
  for (const part of parts) {
    if (typeof part === "number") node = Array.isArray(node) ? node[part] : undefined;
    else node = isRecord(node) ? node[part] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * Fills the template's `<name>` placeholders. Inside a JSON string a value is inserted as text
 * (JSON-escaped, no quotes); elsewhere as JSON (strings quoted). A path the event lacks is null.
 */
export function transformInput(
  transformer: InputTransformer,
  event: unknown,
  ruleName = "",
): string {
  const values: Record<string, unknown> = {
    "aws.events.event": event,
    "aws.events.event.json": event,
    "aws.events.rule-name": ruleName,
    "aws.events.event.ingestion-time": isRecord(event) ? event.time : undefined,
  };
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {}))
    values[name] = readPath(event, path);
  let inString = false;
  let output = "";
  const template = transformer.InputTemplate;
  for (let i = 0; i < template.length; i += 1) {
    const char = template[i];
    if (char === '"' && template[i - 1] !== "\\") inString = !inString;
    if (char === "<") {
      const end = template.indexOf(">", i);
      const name = end > i ? template.slice(i + 1, end) : "";
      if (name in values) {
        const value = values[name];
        if (inString)
          output +=
            typeof value === "string"
              ? JSON.stringify(value).slice(1, -1)
              : value === undefined
                ? ""
                : JSON.stringify(value).replace(/^"|"$/g, "").replaceAll('"', '\\"');
        else output += value === undefined ? "null" : JSON.stringify(value);
        i = end;
        continue;
      }
    }
    output += char;
  }
  return output;
}

export function targetInput(
  target: { Input?: string; InputPath?: string; InputTransformer?: InputTransformer },
  event: unknown,
  ruleName = "",
): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined)
    return JSON.stringify(readPath(event, target.InputPath) ?? null);
  if (target.InputTransformer) return transformInput(target.InputTransformer, event, ruleName);
  return JSON.stringify(event);
}
