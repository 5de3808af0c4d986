// Reads the packaged stack (the CloudFormation template and artifacts `serverless package`
// writes) and creates what the local cloud emulates from it: buckets, tables, topics and
// subscriptions, SSM parameters, EventBridge rules, state machines and functions. Intrinsic
// functions are resolved as CloudFormation resolves them; resources the local cloud has no
// stand-in for (IAM, alarms, queues, log groups) are listed, not silently dropped.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { isRecord } from "./http.js";

export interface StackInput {
  /** The folder with `cloudformation-template-update-stack.json` and the function zips (`.serverless/`). */
  dir: string;
  stackName?: string;
  parameters?: Record<string, string>;
}

export interface StackResource {
  logicalId: string;
  /** What `Ref` gives for the resource. */
  physicalId: string;
  type: string;
  properties: Record<string, unknown>;
}

export interface ResolvedStack {
  stackName: string;
  resources: StackResource[];
  outputs: Record<string, string>;
  /** Resource types present in the template that the local cloud does not emulate. */
  ignored: string[];
}

/** Per resource: what `Ref` gives, its name where it has one, and its `Fn::GetAtt` attributes. */
type Attributes = Record<
  string,
  { ref: string; name?: string; attributes: Record<string, string> }
>;

/** The property that names each resource type; CloudFormation generates the name when it is absent. */
const NAME_PROPERTY: Record<string, string> = {
  "AWS::S3::Bucket": "BucketName",
  "AWS::DynamoDB::Table": "TableName",
  "AWS::SNS::Topic": "TopicName",
  "AWS::SQS::Queue": "QueueName",
  "AWS::SSM::Parameter": "Name",
  "AWS::Events::Rule": "Name",
  "AWS::StepFunctions::StateMachine": "StateMachineName",
  "AWS::Lambda::Function": "FunctionName",
  "AWS::Logs::LogGroup": "LogGroupName",
  "AWS::IAM::Role": "RoleName",
};

const SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * The name CloudFormation gives a resource its template leaves unnamed:
 * `<stack name>-<logical id>-<suffix>`, cut to fit the type's longest name (the suffix is kept
 * whole). CloudFormation's suffix is random; this one is derived from the stack name and the
 * logical id, so a restart over the same state directory finds the same bucket or table.
 */
export function generatedName(
  stackName: string,
  logicalId: string,
  options: { maxLength: number; lowercase?: boolean; prefix?: string },
): string {
  const digest = createHash("sha256").update(`${stackName}/${logicalId}`).digest();
  const suffix = [...digest.subarray(0, 12)]
    .map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length])
    .join("");
  const head = [options.prefix ?? stackName, logicalId]
    .filter(Boolean)
    .join("-")
    .replace(/[^A-Za-z0-9-]/g, "-")
    .slice(0, options.maxLength - suffix.length - 1);
  const name = `${head}-${suffix}`;
  return options.lowercase ? name.toLowerCase() : name;
}

const EMULATED = new Set([
  "AWS::S3::Bucket",
  "AWS::DynamoDB::Table",
  "AWS::SNS::Topic",
  "AWS::SNS::Subscription",
  "AWS::SSM::Parameter",
  "AWS::Events::Rule",
  "AWS::StepFunctions::StateMachine",
  "AWS::Lambda::Function",
  "AWS::ApiGatewayV2::Api",
  "AWS::ApiGatewayV2::Stage",
  "AWS::ApiGatewayV2::Integration",
  "AWS::ApiGatewayV2::Route",
  "AWS::ApiGatewayV2::Authorizer",
]);

export function templatePath(dir: string): string {
  return join(dir, "cloudformation-template-update-stack.json");
}

/** What only the running local cloud knows: the URL its HTTP APIs are served at. */
export interface LocalEndpoints {
  apiEndpoint?: string;
}

export function resolveStack(
  input: StackInput,
  region: string,
  account: string,
  local: LocalEndpoints = {},
): ResolvedStack {
  const template: unknown = JSON.parse(readFileSync(templatePath(input.dir), "utf8"));
  if (!isRecord(template) || !isRecord(template.Resources))
    throw new Error(`${templatePath(input.dir)} has no Resources`);
  const stackName = input.stackName ?? "modeldrop-local";
  const parameters = resolveParameters(template, input.parameters ?? {});
  const pseudo: Record<string, string> = {
    "AWS::Region": region,
    "AWS::AccountId": account,
    "AWS::Partition": "aws",
    "AWS::StackName": stackName,
    "AWS::StackId": `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/local`,
    "AWS::URLSuffix": "amazonaws.com",
  };
  const names = physicalNames(
    template.Resources,
    stackName,
    region,
    account,
    parameters,
    pseudo,
    local,
  );
  const context: Context = { parameters, pseudo, names, conditions: {} };
  context.conditions = resolveConditions(template, context);
  const resources: StackResource[] = [];
  const ignored = new Set<string>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!isRecord(resource) || typeof resource.Type !== "string") continue;
    if (typeof resource.Condition === "string" && !context.conditions[resource.Condition]) continue;
    if (!EMULATED.has(resource.Type)) {
      ignored.add(resource.Type);
      continue;
    }
    const resolved = resolveValue(resource.Properties ?? {}, context);
    const properties = isRecord(resolved) ? resolved : {};
    // An unnamed resource is created under the name CloudFormation would generate for it.
    const nameProperty = NAME_PROPERTY[resource.Type];
    const name = names[logicalId]?.name;
    if (nameProperty && properties[nameProperty] === undefined && name)
      properties[nameProperty] = name;
    resources.push({
      logicalId,
      physicalId: names[logicalId]?.ref ?? logicalId,
      type: resource.Type,
      properties,
    });
  }
  const outputs: Record<string, string> = {};
  if (isRecord(template.Outputs)) {
    for (const [name, output] of Object.entries(template.Outputs)) {
      if (isRecord(output)) outputs[name] = String(resolveValue(output.Value, context));
    }
  }
  return { stackName, resources, outputs, ignored: [...ignored].sort() };
}

/** Unpacks a function's artifact zip once into `<stateDir>/functions/<name>` and returns the folder. */
export function unpackArtifact(
  dir: string,
  code: unknown,
  functionName: string,
  stateDir: string,
  python: string,
): string {
  const key = isRecord(code) && typeof code.S3Key === "string" ? code.S3Key : undefined;
  if (!key)
    throw new Error(
      `function ${functionName} has no Code.S3Key (the local cloud runs packaged artifacts only)`,
    );
  const zip = resolve(dir, basename(key));
  if (!existsSync(zip))
    throw new Error(
      `the artifact ${zip} of function ${functionName} is missing: run the package step first`,
    );
  const root = join(stateDir, "functions");
  const folder = join(root, functionName);
  mkdirSync(folder, { recursive: true });
  // Lambda reads a bundle's .js files as CommonJS unless the bundle says otherwise; stop Node
  // from taking "type": "module" from a package.json above the state folder.
  writeFileSync(join(root, "package.json"), '{"type": "commonjs"}\n');
  const result = spawnSync(python, ["-m", "zipfile", "-e", zip, folder], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`cannot unpack ${zip}: ${result.stderr.trim()}`);
  return folder;
}

interface Context {
  parameters: Record<string, string>;
  pseudo: Record<string, string>;
  names: Attributes;
  conditions: Record<string, boolean>;
}

const NO_VALUE = Symbol("AWS::NoValue");

function resolveParameters(
  template: Record<string, unknown>,
  given: Record<string, string>,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  const declared = isRecord(template.Parameters) ? template.Parameters : {};
  for (const [name, declaration] of Object.entries(declared)) {
    const value =
      given[name] ??
      (isRecord(declaration) && declaration.Default !== undefined
        ? String(declaration.Default)
        : undefined);
    if (value === undefined) throw new Error(`stack parameter ${name} has no value and no default`);
    resolved[name] = value;
  }
  return resolved;
}

function resolveConditions(
  template: Record<string, unknown>,
  context: Context,
): Record<string, boolean> {
  const conditions: Record<string, boolean> = {};
  if (!isRecord(template.Conditions)) return conditions;
  for (const [name, condition] of Object.entries(template.Conditions))
    conditions[name] = Boolean(resolveValue(condition, context));
  return conditions;
}

/** Physical names and attributes (`Ref`, `Fn::GetAtt`) of every resource, as CloudFormation would give them. */
function physicalNames(
  resources: Record<string, unknown>,
  stackName: string,
  region: string,
  account: string,
  parameters: Record<string, string>,
  pseudo: Record<string, string>,
  local: LocalEndpoints,
): Attributes {
  const names: Attributes = {};
  const early: Context = { parameters, pseudo, names, conditions: {} };
  for (const [id, resource] of Object.entries(resources)) {
    if (!isRecord(resource)) continue;
    const p = isRecord(resource.Properties) ? resource.Properties : {};
    /** The template's name for the resource, or the one CloudFormation would generate. */
    const named = (field: string, generate: Parameters<typeof generatedName>[2]) => {
      const value = p[field] === undefined ? undefined : resolveValue(p[field], early);
      return typeof value === "string" ? value : generatedName(stackName, id, generate);
    };
    switch (resource.Type) {
      case "AWS::S3::Bucket": {
        const bucket = named("BucketName", { maxLength: 63, lowercase: true });
        names[id] = {
          ref: bucket,
          name: bucket,
          attributes: {
            Arn: `arn:aws:s3:::${bucket}`,
            DomainName: `${bucket}.s3.amazonaws.com`,
            RegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
          },
        };
        break;
      }
      case "AWS::DynamoDB::Table": {
        const table = named("TableName", { maxLength: 255 });
        names[id] = {
          ref: table,
          name: table,
          attributes: {
            Arn: `arn:aws:dynamodb:${region}:${account}:table/${table}`,
            StreamArn: `arn:aws:dynamodb:${region}:${account}:table/${table}/stream/local`,
          },
        };
        break;
      }
      case "AWS::SNS::Topic": {
        const topic = named("TopicName", { maxLength: 256 });
        const arn = `arn:aws:sns:${region}:${account}:${topic}`;
        names[id] = { ref: arn, name: topic, attributes: { TopicArn: arn, TopicName: topic } };
        break;
      }
      case "AWS::Lambda::Function": {
        const fn = named("FunctionName", { maxLength: 64 });
        names[id] = {
          ref: fn,
          name: fn,
          attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${fn}` },
        };
        break;
      }
      case "AWS::StepFunctions::StateMachine": {
        // CloudFormation names an unnamed state machine `<logical id>-<suffix>`, without the stack.
        const machine = named("StateMachineName", { maxLength: 80, prefix: "" });
        const arn = `arn:aws:states:${region}:${account}:stateMachine:${machine}`;
        names[id] = { ref: arn, name: machine, attributes: { Arn: arn, Name: machine } };
        break;
      }
      case "AWS::IAM::Role": {
        const role = named("RoleName", { maxLength: 64 });
        names[id] = {
          ref: role,
          name: role,
          attributes: {
            Arn: `arn:aws:iam::${account}:role/${role}`,
            RoleId: `AROALOCAL${id.toUpperCase()}`,
          },
        };
        break;
      }
      case "AWS::SQS::Queue": {
        const queue = named("QueueName", { maxLength: 80 });
        names[id] = {
          ref: `https://sqs.${region}.amazonaws.com/${account}/${queue}`,
          name: queue,
          attributes: { Arn: `arn:aws:sqs:${region}:${account}:${queue}`, QueueName: queue },
        };
        break;
      }
      case "AWS::SSM::Parameter": {
        // CloudFormation names an unnamed parameter `CFN-<logical id>-<suffix>`.
        const parameter = named("Name", { maxLength: 2048, prefix: "CFN" });
        names[id] = {
          ref: parameter,
          name: parameter,
          attributes: { Type: String(p.Type ?? "String"), Value: "" },
        };
        break;
      }
      case "AWS::ApiGatewayV2::Api": {
        // One local listener serves every HTTP API of the stack: its URL is the API endpoint.
        const apiId = createHash("sha256").update(`${stackName}/${id}`).digest("hex").slice(0, 10);
        names[id] = {
          ref: apiId,
          attributes: {
            ApiId: apiId,
            ApiEndpoint:
              local.apiEndpoint ?? `https://${apiId}.execute-api.${region}.amazonaws.com`,
          },
        };
        break;
      }
      case "AWS::Events::Rule": {
        const rule = named("Name", { maxLength: 64 });
        names[id] = {
          ref: rule,
          name: rule,
          attributes: { Arn: `arn:aws:events:${region}:${account}:rule/${rule}` },
        };
        break;
      }
      case "AWS::Logs::LogGroup": {
        const group = named("LogGroupName", { maxLength: 512 });
        names[id] = {
          ref: group,
          name: group,
          attributes: { Arn: `arn:aws:logs:${region}:${account}:log-group:${group}:*` },
        };
        break;
      }
      case "AWS::KMS::Key": {
        const hex = createHash("sha256").update(`${stackName}/${id}`).digest("hex");
        const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
        names[id] = {
          ref: keyId,
          attributes: { Arn: `arn:aws:kms:${region}:${account}:key/${keyId}`, KeyId: keyId },
        };
        break;
      }
      default:
        names[id] = {
          ref: generatedName(stackName, id, { maxLength: 255 }),
          attributes: { Arn: `arn:aws:local:${region}:${account}:${id}` },
        };
    }
  }
  return names;
}

function resolveValue(value: unknown, context: Context): unknown {
  if (Array.isArray(value))
    return value.map((v) => resolveValue(v, context)).filter((v) => v !== NO_VALUE);
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn] = keys as [string];
    const arg = value[fn];
    switch (fn) {
      case "Ref":
        return ref(String(arg), context);
      case "Fn::GetAtt":
        return getAtt(arg, context);
      case "Fn::Sub":
        return sub(arg, context);
      case "Fn::Join": {
        const [separator, list] = Array.isArray(arg) ? arg : [];
        const items = resolveValue(list, context);
        return Array.isArray(items) ? items.map(String).join(String(separator ?? "")) : "";
      }
      case "Fn::Select": {
        const [index, list] = Array.isArray(arg) ? arg : [];
        const items = resolveValue(list, context);
        return Array.isArray(items) ? items[Number(resolveValue(index, context))] : undefined;
      }
      case "Fn::Split": {
        const [separator, text] = Array.isArray(arg) ? arg : [];
        return String(resolveValue(text, context)).split(String(separator));
      }
      case "Fn::If": {
        const [condition, whenTrue, whenFalse] = Array.isArray(arg) ? arg : [];
        return resolveValue(context.conditions[String(condition)] ? whenTrue : whenFalse, context);
      }
      case "Fn::Equals": {
        const [a, b] = Array.isArray(arg) ? arg.map((v) => resolveValue(v, context)) : [];
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case "Fn::Not":
        return !(Array.isArray(arg) && resolveValue(arg[0], context));
      case "Fn::And":
        return Array.isArray(arg) && arg.every((v) => resolveValue(v, context));
      case "Fn::Or":
        return Array.isArray(arg) && arg.some((v) => resolveValue(v, context));
      case "Condition":
        return context.conditions[String(arg)] ?? false;
      default:
        if (fn.startsWith("Fn::")) throw new Error(`the local cloud does not resolve ${fn}`);
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const r = resolveValue(v, context);
    if (r !== NO_VALUE) resolved[key] = r;
  }
  return resolved;
}

function ref(name: string, context: Context): unknown {
  if (name === "AWS::NoValue") return NO_VALUE;
  const value = context.pseudo[name] ?? context.parameters[name] ?? context.names[name]?.ref;
  if (value === undefined) throw new Error(`Ref to ${name}: no such parameter or resource`);
  return value;
}

function getAtt(arg: unknown, context: Context): string {
  const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(".");
  const value = id && attribute ? context.names[id]?.attributes[attribute] : undefined;
  if (value === undefined)
    throw new Error(`Fn::GetAtt ${id}.${attribute}: unknown resource or attribute`);
  return value;
}

function sub(arg: unknown, context: Context): string {
  const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
  const locals = isRecord(variables) ? variables : {};
  return String(text).replace(/\$\{([^}!]+)\}/g, (_, expression: string) => {
    if (expression in locals) return String(resolveValue(locals[expression], context));
    if (expression.includes(".")) {
      const [id, ...rest] = expression.split(".");
      return getAtt([id, rest.join(".")], context);
    }
    return String(ref(expression, context));
  });
}
