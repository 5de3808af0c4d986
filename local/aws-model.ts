// Request validation against AWS's official API models: botocore's `service-2.json.gz`
// (installed in the project's Python environment) carries every operation's input shape with
// required members, lengths, patterns, enums and ranges. Requests are checked as the service
// checks them and refused with its error names and message format.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { isRecord } from "./http.js";

interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

export interface ServiceModel {
  service: string;
  operations: Record<string, { input?: string }>;
  shapes: Record<string, Shape>;
  patterns: Map<string, RegExp | null>;
}

export class AwsValidationError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cache = new Map<string, ServiceModel>();
const VALUE_LIMIT = 200;

/** The newest API version of a service in the project's botocore. */
export function loadServiceModel(service: string, root = ROOT): ServiceModel {
  const cached = cache.get(`${root}:${service}`);
  if (cached) return cached;
  const lib = join(root, ".venv", "lib");
  let folder: string | undefined;
  try {
    const python = readdirSync(lib).find((name) => name.startsWith("python3"));
    const data = join(lib, python ?? "python3", "site-packages", "botocore", "data", service);
    const version = readdirSync(data).sort().at(-1);
    folder = version ? join(data, version) : undefined;
  } catch {
    folder = undefined;
  }
  if (!folder)
    throw new Error(
      `botocore's API model for ${service} is missing under ${lib}: run \`npm run setup\``,
    );
  const raw: unknown = JSON.parse(
    gunzipSync(readFileSync(join(folder, "service-2.json.gz"))).toString("utf8"),
  );
  if (!isRecord(raw) || !isRecord(raw.operations) || !isRecord(raw.shapes))
    throw new Error(`${folder}/service-2.json.gz is not a botocore service model`);
  const operations: ServiceModel["operations"] = {};
  for (const [name, op] of Object.entries(raw.operations)) {
    const input =
      isRecord(op) && isRecord(op.input) && typeof op.input.shape === "string"
        ? op.input.shape
        : undefined;
    operations[name] = input ? { input } : {};
  }
  const model: ServiceModel = {
    service,
    operations,
    shapes: raw.shapes as Record<string, Shape>,
    patterns: new Map(),
  };
  cache.set(`${root}:${service}`, model);
  return model;
}

export function operationNames(model: ServiceModel): string[] {
  return Object.keys(model.operations).sort();
}

export function validateRequest(
  model: ServiceModel,
  operation: string,
  input: unknown,
): AwsValidationError | undefined {
  const op = model.operations[operation];
  if (!op)
    return new AwsValidationError(
      "UnknownOperationException",
      `Operation ${operation} is not supported`,
    );
  if (!op.input) return undefined;
  const problems: string[] = [];
  const unknown: string[] = [];
  check(model, op.input, input, "", problems, unknown);
  if (unknown.length > 0)
    return new AwsValidationError(
      "SerializationException",
      `Unknown field ${unknown[0]} in the ${operation} request`,
    );
  if (problems.length === 0) return undefined;
  const count =
    problems.length === 1
      ? "1 validation error detected"
      : `${problems.length} validation errors detected`;
  return new AwsValidationError("ValidationException", `${count}: ${problems.join("; ")}`);
}

function check(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  problems: string[],
  unknown: string[],
): void {
  const shape = model.shapes[shapeName];
  if (!shape || value === undefined || value === null) return;
  const fail = (constraint: string) =>
    problems.push(`Value ${show(value)} at '${path}' failed to satisfy constraint: ${constraint}`);
  switch (shape.type) {
    case "structure": {
      if (!isRecord(value)) return void fail("Member must be an object");
      for (const name of shape.required ?? []) {
        if (value[name] === undefined || value[name] === null)
          problems.push(
            `Value null at '${join_(path, name)}' failed to satisfy constraint: Member must not be null`,
          );
      }
      for (const [name, member] of Object.entries(value)) {
        const definition = shape.members?.[name];
        if (!definition) unknown.push(join_(path, name));
        else check(model, definition.shape, member, join_(path, name), problems, unknown);
      }
      return;
    }
    case "list": {
      if (!Array.isArray(value)) return void fail("Member must be a list");
      sizeChecks(shape, value.length, fail, "length");
      value.forEach((item, i) => {
        if (shape.member)
          check(model, shape.member.shape, item, `${path}.${i + 1}.member`, problems, unknown);
      });
      return;
    }
    case "map": {
      if (!isRecord(value)) return void fail("Member must be a map");
      sizeChecks(shape, Object.keys(value).length, fail, "length");
      for (const [key, item] of Object.entries(value)) {
        if (shape.key) check(model, shape.key.shape, key, `${path}.key`, problems, unknown);
        if (shape.value) check(model, shape.value.shape, item, `${path}.${key}`, problems, unknown);
      }
      return;
    }
    case "string": {
      if (typeof value !== "string") return void fail("Member must be a string");
      sizeChecks(shape, [...value].length, fail, "length");
      if (shape.enum && !shape.enum.includes(value))
        fail(`Member must satisfy enum value set: [${shape.enum.join(", ")}]`);
      const regex = shape.pattern === undefined ? null : compile(model, shape.pattern);
      if (regex && !regex.test(value))
        fail(`Member must satisfy regular expression pattern: ${shape.pattern}`);
      return;
    }
    case "integer":
    case "long":
    case "float":
    case "double": {
      if (
        typeof value !== "number" ||
        ((shape.type === "integer" || shape.type === "long") && !Number.isInteger(value))
      )
        return void fail(
          `Member must be ${shape.type === "integer" || shape.type === "long" ? "an integer" : "a number"}`,
        );
      if (shape.min !== undefined && value < shape.min)
        fail(`Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max)
        fail(`Member must have value less than or equal to ${shape.max}`);
      return;
    }
    case "boolean":
      if (typeof value !== "boolean") fail("Member must be a boolean");
      return;
    case "timestamp":
      if (
        typeof value !== "number" &&
        (typeof value !== "string" || Number.isNaN(Date.parse(value)))
      )
        fail("Member must be a timestamp");
      return;
    default:
      return;
  }
}

function sizeChecks(
  shape: Shape,
  size: number,
  fail: (constraint: string) => void,
  noun: string,
): void {
  if (shape.min !== undefined && size < shape.min)
    fail(`Member must have ${noun} greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && size > shape.max)
    fail(`Member must have ${noun} less than or equal to ${shape.max}`);
}

/** Java-style patterns as JavaScript regexes (anchored, as the service matches the whole value); ones JS cannot express are skipped. */
function compile(model: ServiceModel, pattern: string): RegExp | null {
  if (model.patterns.has(pattern)) return model.patterns.get(pattern) ?? null;
  let regex: RegExp | null = null;
  try {
    const body = pattern.replace(
      /\\p\{(Alpha|Alnum|Punct|Digit|Space|Upper|Lower)\}/g,
      (_, cls: string) => POSIX[cls] ?? ".",
    );
    regex = new RegExp(`^(?:${body.replace(/^\^/, "").replace(/\$$/, "")})$`, "u");
  } catch {
    try {
      regex = new RegExp(`^(?:${pattern.replace(/^\^/, "").replace(/\$$/, "")})$`);
    } catch {
      regex = null;
    }
  }
  model.patterns.set(pattern, regex);
  return regex;
}

const POSIX: Record<string, string> = {
  Alpha: "[A-Za-z]",
  Alnum: "[A-Za-z0-9]",
  Punct: "[!-/:-@[-`{-~]",
  Digit: "[0-9]",
  Space: "\\s",
  Upper: "[A-Z]",
  Lower: "[a-z]",
};

function join_(path: string, member: string): string {
  const camel = `${member[0]?.toLowerCase() ?? ""}${member.slice(1)}`;
  return path ? `${path}.${camel}` : camel;
}

function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return `'${text.length > VALUE_LIMIT ? `${text.slice(0, VALUE_LIMIT)}…` : text}'`;
}
