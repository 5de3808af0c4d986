// Creates the packaged stack's resources in the local cloud. Run on every start: existing
// buckets, tables, topics and parameters are kept with their data (as a stack update would),
// while rules, state machines and functions are replaced by the template's current version.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type ApiGatewayService, type ApiRoute, functionArnOf } from "./api-gateway.js";
import type { DynamoDbService } from "./dynamodb.js";
import { type EventBridgeService, type StackRule, toTarget } from "./eventbridge.js";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord } from "./http.js";
import type { FunctionRunner } from "./lambda.js";
import type { CorsRule, ObjectStore } from "./s3-store.js";
import type { SnsService } from "./sns.js";
import type { SsmService } from "./ssm.js";
import {
  type ResolvedStack,
  type StackInput,
  type StackResource,
  unpackArtifact,
} from "./stack.js";
import type { StepFunctionsService } from "./stepfunctions.js";

export interface StackTargets {
  stateDir: string;
  python: string;
  objects: ObjectStore;
  dynamodb: DynamoDbService;
  sns: SnsService;
  ssm: SsmService;
  events: EventBridgeService;
  stepFunctions: StepFunctionsService;
  functions: FunctionRunner;
  api: ApiGatewayService;
}

export async function applyStack(
  stack: ResolvedStack,
  input: StackInput,
  cloud: StackTargets,
): Promise<void> {
  const byType = (type: string) => stack.resources.filter((r) => r.type === type);
  for (const bucket of byType("AWS::S3::Bucket")) {
    const p = bucket.properties;
    const versioning =
      isRecord(p.VersioningConfiguration) && p.VersioningConfiguration.Status === "Enabled";
    const notification = isRecord(p.NotificationConfiguration) ? p.NotificationConfiguration : {};
    const eventBridge =
      isRecord(notification.EventBridgeConfiguration) &&
      notification.EventBridgeConfiguration.EventBridgeEnabled !== false;
    const name = nameOf(bucket, "BucketName");
    cloud.objects.createBucket(name, { versioning, eventBridge });
    // As CloudFormation does: a template without the property leaves the bucket without CORS.
    cloud.objects.setCors(name, corsRulesOf(p.CorsConfiguration));
  }
  for (const table of byType("AWS::DynamoDB::Table"))
    await createTable(cloud.dynamodb, cloud.stateDir, nameOf(table, "TableName"), table.properties);
  for (const topic of byType("AWS::SNS::Topic")) {
    const p = topic.properties;
    const arn = cloud.sns.createTopic(nameOf(topic, "TopicName"));
    for (const s of Array.isArray(p.Subscription) ? p.Subscription.filter(isRecord) : [])
      cloud.sns.subscribe(arn, String(s.Protocol), String(s.Endpoint));
  }
  for (const { properties: p } of byType("AWS::SNS::Subscription"))
    cloud.sns.subscribe(String(p.TopicArn), String(p.Protocol), String(p.Endpoint));
  for (const parameter of byType("AWS::SSM::Parameter")) {
    const p = parameter.properties;
    const name = nameOf(parameter, "Name");
    // A value the user has set (the Slack webhook) is never overwritten by the template's placeholder.
    if (cloud.ssm.read(name) === undefined)
      cloud.ssm.put(
        name,
        String(p.Value),
        p.Type === "StringList" ? "StringList" : "String",
        false,
      );
  }
  for (const fn of byType("AWS::Lambda::Function")) {
    const { logicalId, properties: p } = fn;
    const name = nameOf(fn, "FunctionName");
    const folder = unpackArtifact(input.dir, p.Code, name, cloud.stateDir, cloud.python);
    const handler = String(p.Handler ?? "");
    const dot = handler.lastIndexOf(".");
    if (dot < 1)
      throw new Error(`function ${logicalId} has an invalid Handler ${JSON.stringify(handler)}`);
    const base = join(folder, handler.slice(0, dot));
    const file = [".mjs", ".cjs", ".js"].map((ext) => `${base}${ext}`).find((f) => existsSync(f));
    if (!file)
      throw new Error(`function ${name}: ${handler.slice(0, dot)}.js is not in its artifact`);
    const environment =
      isRecord(p.Environment) && isRecord(p.Environment.Variables) ? p.Environment.Variables : {};
    cloud.functions.define({
      name,
      root: folder,
      file,
      exportName: handler.slice(dot + 1),
      environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
      timeoutSeconds: typeof p.Timeout === "number" ? p.Timeout : 3,
      memoryMb: typeof p.MemorySize === "number" ? p.MemorySize : 128,
    });
  }
  for (const machine of byType("AWS::StepFunctions::StateMachine")) {
    const p = machine.properties;
    let definition =
      typeof p.DefinitionString === "string"
        ? p.DefinitionString
        : JSON.stringify(p.Definition ?? {});
    const substitutions = isRecord(p.DefinitionSubstitutions) ? p.DefinitionSubstitutions : {};
    for (const [key, value] of Object.entries(substitutions))
      definition = definition.replaceAll(`\${${key}}`, String(value));
    try {
      cloud.stepFunctions.createStateMachine(
        nameOf(machine, "StateMachineName"),
        definition,
        String(p.RoleArn ?? ""),
        String(p.StateMachineType ?? "STANDARD"),
      );
    } catch (error) {
      // CloudFormation fails the stack on the resource that Step Functions refused: name it.
      if (!(error instanceof AwsError)) throw error;
      throw new Error(
        `state machine ${machine.logicalId} of the packaged stack was refused: ${error.code}: ${error.message}`,
        { cause: error },
      );
    }
  }
  cloud.api.define(apiRoutes(stack));
  // The template's rules, with a pattern, a schedule or both; one the template no longer has
  // is deleted with its timer, as a stack update deletes it.
  cloud.events.applyStackRules(stack.stackName, byType("AWS::Events::Rule").map(stackRule));
}

/** An AWS::Events::Rule of the template as EventBridge's PutRule and PutTargets take it. */
function stackRule(rule: StackResource): StackRule {
  const p = rule.properties;
  return {
    name: nameOf(rule, "Name"),
    // CloudFormation takes the pattern as an object (or its JSON text); PutRule as text.
    eventPattern: isRecord(p.EventPattern)
      ? JSON.stringify(p.EventPattern)
      : typeof p.EventPattern === "string"
        ? p.EventPattern
        : undefined,
    scheduleExpression: typeof p.ScheduleExpression === "string" ? p.ScheduleExpression : undefined,
    state: p.State === "DISABLED" ? "DISABLED" : "ENABLED",
    eventBusName: typeof p.EventBusName === "string" ? p.EventBusName : undefined,
    targets: (Array.isArray(p.Targets) ? p.Targets.filter(isRecord) : []).map(toTarget),
  };
}

/** HTTP API routes with their Lambda proxy integrations and REQUEST authorizers. */
function apiRoutes(stack: ResolvedStack): ApiRoute[] {
  const byRef = (type: string) =>
    new Map(stack.resources.filter((r) => r.type === type).map((r) => [r.physicalId, r]));
  const integrations = byRef("AWS::ApiGatewayV2::Integration");
  const authorizers = byRef("AWS::ApiGatewayV2::Authorizer");
  const routes: ApiRoute[] = [];
  for (const { logicalId, properties: p } of stack.resources.filter(
    (r) => r.type === "AWS::ApiGatewayV2::Route",
  )) {
    const target = String(p.Target ?? "");
    const integration = integrations.get(target.replace(/^integrations\//, ""))?.properties;
    if (integration?.IntegrationType !== "AWS_PROXY")
      throw new Error(
        `route ${logicalId} (${String(p.RouteKey)}): only Lambda proxy integrations are emulated`,
      );
    if (String(integration.PayloadFormatVersion ?? "") !== "2.0")
      throw new Error(
        `route ${logicalId} (${String(p.RouteKey)}): only payload format 2.0 is emulated`,
      );
    const route: ApiRoute = {
      apiId: String(p.ApiId),
      routeKey: String(p.RouteKey),
      functionArn: functionArnOf(String(integration.IntegrationUri)),
      timeoutMs:
        typeof integration.TimeoutInMillis === "number" ? integration.TimeoutInMillis : 30_000,
    };
    if (p.AuthorizationType === "CUSTOM") {
      const authorizer = authorizers.get(String(p.AuthorizerId))?.properties;
      if (authorizer?.AuthorizerType !== "REQUEST")
        throw new Error(
          `route ${logicalId}: its authorizer ${String(p.AuthorizerId)} is not a Lambda REQUEST authorizer`,
        );
      route.authorizer = {
        name: String(authorizer.Name ?? p.AuthorizerId),
        functionArn: functionArnOf(String(authorizer.AuthorizerUri)),
        identitySource: (Array.isArray(authorizer.IdentitySource)
          ? authorizer.IdentitySource
          : String(authorizer.IdentitySource ?? "").split(",")
        )
          .map((s) => String(s).trim())
          .filter(Boolean),
        simpleResponses: authorizer.EnableSimpleResponses === true,
        ttlSeconds:
          typeof authorizer.AuthorizerResultTtlInSeconds === "number"
            ? authorizer.AuthorizerResultTtlInSeconds
            : 0,
      };
    } else if (p.AuthorizationType !== undefined && p.AuthorizationType !== "NONE") {
      throw new Error(
        `route ${logicalId}: authorization type ${String(p.AuthorizationType)} is not emulated (Lambda REQUEST authorizers are)`,
      );
    }
    routes.push(route);
  }
  return routes;
}

/**
 * The resource's name: the template's, or the one resolveStack generated as CloudFormation
 * would. Never "undefined": a resource without one is a bug in the stack resolution.
 */
/** AWS::S3::Bucket CorsConfiguration in S3's terms (its names differ: AllowedOrigins, ExposedHeaders, MaxAge). */
function corsRulesOf(configuration: unknown): CorsRule[] | undefined {
  if (!isRecord(configuration) || !Array.isArray(configuration.CorsRules)) return undefined;
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return configuration.CorsRules.filter(isRecord).map((rule) => ({
    ...(rule.Id === undefined ? {} : { id: String(rule.Id) }),
    allowedOrigins: strings(rule.AllowedOrigins),
    allowedMethods: strings(rule.AllowedMethods),
    allowedHeaders: strings(rule.AllowedHeaders),
    exposeHeaders: strings(rule.ExposedHeaders),
    ...(rule.MaxAge === undefined ? {} : { maxAgeSeconds: Number(rule.MaxAge) }),
  }));
}

function nameOf(resource: StackResource, property: string): string {
  const name = resource.properties[property];
  if (typeof name !== "string" || name === "")
    throw new Error(`${resource.type} ${resource.logicalId} has no ${property}`);
  return name;
}

/** `byStatus:status/HASH,createdAt/RANGE;…`: a table's global indexes, to compare with the template's. */
function indexShape(indexes: unknown): string {
  return (Array.isArray(indexes) ? indexes.filter(isRecord) : [])
    .map((index) => {
      const keys = (Array.isArray(index.KeySchema) ? index.KeySchema.filter(isRecord) : []).map(
        (key) => `${String(key.AttributeName)}/${String(key.KeyType)}`,
      );
      return `${String(index.IndexName)}:${keys.join(",")}`;
    })
    .sort()
    .join(";");
}

/**
 * Creates the table, or keeps the existing one with its items. When the template's global
 * indexes differ from the table's, the table is rebuilt with them and its items written back,
 * as a stack update adds or removes an index (dynalite's UpdateTable cannot). The items are
 * saved to a file first, so a crash in the middle loses nothing: the next start restores them.
 */
async function createTable(
  dynamodb: DynamoDbService,
  stateDir: string,
  name: string,
  p: Record<string, unknown>,
): Promise<void> {
  const saved = join(stateDir, `dynamodb-rebuilding-${encodeURIComponent(name)}.json`);
  let existing: Record<string, unknown> | undefined;
  try {
    const described = await dynamodb.call("DescribeTable", { TableName: name });
    existing = isRecord(described.Table) ? described.Table : {};
  } catch (error) {
    if (!(error instanceof AwsError) || error.code !== "ResourceNotFoundException") throw error;
  }
  if (
    existing &&
    indexShape(existing.GlobalSecondaryIndexes) === indexShape(p.GlobalSecondaryIndexes)
  ) {
    if (existsSync(saved)) await restoreItems(dynamodb, name, saved);
    return;
  }
  if (existing) {
    if (!existsSync(saved)) writeJsonAtomic(saved, await scanAll(dynamodb, name));
    await dynamodb.call("DeleteTable", { TableName: name });
    await tableStatus(dynamodb, name, "deleted");
  }
  const input: Record<string, unknown> = {
    TableName: name,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode ?? "PROVISIONED",
  };
  if (p.ProvisionedThroughput) input.ProvisionedThroughput = p.ProvisionedThroughput;
  if (Array.isArray(p.GlobalSecondaryIndexes))
    input.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes;
  if (Array.isArray(p.LocalSecondaryIndexes)) input.LocalSecondaryIndexes = p.LocalSecondaryIndexes;
  await dynamodb.call("CreateTable", input);
  if (existsSync(saved)) {
    await tableStatus(dynamodb, name, "ACTIVE");
    await restoreItems(dynamodb, name, saved);
  }
}

async function scanAll(dynamodb: DynamoDbService, table: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let start: unknown;
  do {
    const page = await dynamodb.call("Scan", {
      TableName: table,
      ...(start ? { ExclusiveStartKey: start } : {}),
    });
    if (Array.isArray(page.Items)) items.push(...page.Items);
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Waits until the table is gone, or ACTIVE (dynalite flips a new table's status a moment after CreateTable). */
async function tableStatus(
  dynamodb: DynamoDbService,
  table: string,
  wanted: "deleted" | "ACTIVE",
): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    try {
      const described = await dynamodb.call("DescribeTable", { TableName: table });
      if (
        wanted === "ACTIVE" &&
        isRecord(described.Table) &&
        described.Table.TableStatus === "ACTIVE"
      )
        return;
    } catch (error) {
      if (!(error instanceof AwsError) || error.code !== "ResourceNotFoundException") throw error;
      if (wanted === "deleted") return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${table} did not become ${wanted}`);
}

async function restoreItems(
  dynamodb: DynamoDbService,
  table: string,
  saved: string,
): Promise<void> {
  const items = readJsonFile(saved, []);
  const list = Array.isArray(items) ? items : [];
  for (let i = 0; i < list.length; i += 25) {
    let requests: unknown[] = list.slice(i, i + 25).map((item) => ({ PutRequest: { Item: item } }));
    while (requests.length > 0) {
      const answer = await dynamodb.call("BatchWriteItem", { RequestItems: { [table]: requests } });
      const left = isRecord(answer.UnprocessedItems) ? answer.UnprocessedItems[table] : undefined;
      requests = Array.isArray(left) ? left : [];
    }
  }
  rmSync(saved, { force: true });
}
