// Creates the packaged stack's resources in the local cloud. Run on every start: existing
// buckets, tables, topics and parameters are kept with their data (as a stack update would),
// while rules, state machines and functions are replaced by the template's current version.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type ApiGatewayService, type ApiRoute, functionArnOf } from "./api-gateway.js";
import type { DynamoDbService } from "./dynamodb.js";
import type { EventBridgeService, Target } from "./eventbridge.js";
import { AwsError, isRecord } from "./http.js";
import type { FunctionRunner } from "./lambda.js";
import type { ObjectStore } from "./s3-store.js";
import type { SnsService } from "./sns.js";
import type { SsmService } from "./ssm.js";
import { type ResolvedStack, type StackInput, unpackArtifact } from "./stack.js";
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
  for (const { properties: p } of byType("AWS::S3::Bucket")) {
    const versioning =
      isRecord(p.VersioningConfiguration) && p.VersioningConfiguration.Status === "Enabled";
    const notification = isRecord(p.NotificationConfiguration) ? p.NotificationConfiguration : {};
    const eventBridge =
      isRecord(notification.EventBridgeConfiguration) &&
      notification.EventBridgeConfiguration.EventBridgeEnabled !== false;
    cloud.objects.createBucket(String(p.BucketName), { versioning, eventBridge });
  }
  for (const { properties: p } of byType("AWS::DynamoDB::Table"))
    await createTable(cloud.dynamodb, p);
  for (const { properties: p } of byType("AWS::SNS::Topic")) {
    const arn = cloud.sns.createTopic(String(p.TopicName));
    for (const s of Array.isArray(p.Subscription) ? p.Subscription.filter(isRecord) : [])
      cloud.sns.subscribe(arn, String(s.Protocol), String(s.Endpoint));
  }
  for (const { properties: p } of byType("AWS::SNS::Subscription"))
    cloud.sns.subscribe(String(p.TopicArn), String(p.Protocol), String(p.Endpoint));
  for (const { properties: p } of byType("AWS::SSM::Parameter")) {
    // A value the user has set (the Slack webhook) is never overwritten by the template's placeholder.
    if (cloud.ssm.read(String(p.Name)) === undefined)
      cloud.ssm.put(
        String(p.Name),
        String(p.Value),
        p.Type === "StringList" ? "StringList" : "String",
        false,
      );
  }
  for (const { logicalId, properties: p } of byType("AWS::Lambda::Function")) {
    const name = String(p.FunctionName);
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
      file,
      exportName: handler.slice(dot + 1),
      environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
      timeoutSeconds: typeof p.Timeout === "number" ? p.Timeout : 3,
      memoryMb: typeof p.MemorySize === "number" ? p.MemorySize : 128,
    });
  }
  for (const { properties: p } of byType("AWS::StepFunctions::StateMachine")) {
    let definition =
      typeof p.DefinitionString === "string"
        ? p.DefinitionString
        : JSON.stringify(p.Definition ?? {});
    const substitutions = isRecord(p.DefinitionSubstitutions) ? p.DefinitionSubstitutions : {};
    for (const [key, value] of Object.entries(substitutions))
      definition = definition.replaceAll(`\${${key}}`, String(value));
    cloud.stepFunctions.createStateMachine(
      String(p.StateMachineName),
      definition,
      String(p.RoleArn ?? ""),
      String(p.StateMachineType ?? "STANDARD"),
    );
  }
  cloud.api.define(apiRoutes(stack));
  for (const { logicalId, properties: p } of byType("AWS::Events::Rule")) {
    if (!isRecord(p.EventPattern)) continue;
    const name = typeof p.Name === "string" ? p.Name : `${stack.stackName}-${logicalId}`;
    cloud.events.putRule(
      name,
      JSON.stringify(p.EventPattern),
      p.State === "DISABLED" ? "DISABLED" : "ENABLED",
    );
    const targets = (Array.isArray(p.Targets) ? p.Targets.filter(isRecord) : []).map((t) => {
      const target: Target = { Id: String(t.Id), Arn: String(t.Arn) };
      if (typeof t.Input === "string") target.Input = t.Input;
      if (typeof t.InputPath === "string") target.InputPath = t.InputPath;
      if (isRecord(t.InputTransformer)) {
        target.InputTransformer = {
          InputTemplate: String(t.InputTransformer.InputTemplate),
          ...(isRecord(t.InputTransformer.InputPathsMap)
            ? { InputPathsMap: t.InputTransformer.InputPathsMap as Record<string, string> }
            : {}),
        };
      }
      return target;
    });
    cloud.events.putTargets(name, targets);
  }
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

async function createTable(dynamodb: DynamoDbService, p: Record<string, unknown>): Promise<void> {
  try {
    await dynamodb.call("DescribeTable", { TableName: p.TableName });
    return;
  } catch (error) {
    if (!(error instanceof AwsError) || error.code !== "ResourceNotFoundException") throw error;
  }
  const input: Record<string, unknown> = {
    TableName: p.TableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode ?? "PROVISIONED",
  };
  if (p.ProvisionedThroughput) input.ProvisionedThroughput = p.ProvisionedThroughput;
  if (Array.isArray(p.GlobalSecondaryIndexes))
    input.GlobalSecondaryIndexes = p.GlobalSecondaryIndexes;
  if (Array.isArray(p.LocalSecondaryIndexes)) input.LocalSecondaryIndexes = p.LocalSecondaryIndexes;
  await dynamodb.call("CreateTable", input);
}
