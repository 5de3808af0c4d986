// The local cloud: one HTTP endpoint that serves the AWS APIs modeldrop uses, routing each
// request by the service in its SigV4 credential scope. It is built from the packaged stack,
// keeps its state under one folder, and reconciles what died with the previous process.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiGatewayService } from "./api-gateway.js";
import { applyStack } from "./apply-stack.js";
import { DynamoDbService } from "./dynamodb.js";
import { EventBridgeService } from "./eventbridge.js";
import { AwsError, sendJsonError } from "./http.js";
import { InboxWatcher } from "./inbox-watcher.js";
import { type JsonService, serveJson } from "./json-service.js";
import { FunctionRunner } from "./lambda.js";
import { LogsService } from "./logs.js";
import { S3Service } from "./s3.js";
import { type ObjectCreated, type ObjectDeleted, ObjectStore } from "./s3-store.js";
import { SageMakerService } from "./sagemaker.js";
import { defaultJobSlots } from "./sagemaker-runner.js";
import { scopeFromHeaders, scopeFromQuery } from "./sigv4.js";
import { SnsService, type SnsServiceOptions } from "./sns.js";
import { SsmService } from "./ssm.js";
import { type ResolvedStack, resolveStack, type StackInput } from "./stack.js";
import { type InvokeResult, StepFunctionsService } from "./stepfunctions.js";

export const LOCAL_ACCOUNT = "000000000000";
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface LocalCloudOptions {
  stateDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The port the stack's HTTP API is served on; 0 (the default) picks a free port. */
  apiPort?: number;
  region?: string;
  /** The packaged stack to build from; without one the services start empty. */
  stack?: StackInput;
  /** The watched inbox folder and the bucket it uploads to (default: the stack's `DataBucketName` output). */
  inbox?: { folder: string; bucket?: string; intervalMs?: number };
  /** The Python that runs SageMaker jobs; default: the project's `.venv`. */
  python?: string;
  /** How many SageMaker jobs run at once; more wait in a queue. Default: half the CPU cores. */
  jobSlots?: number;
  /** Seconds a stopped job gets between SIGTERM and SIGKILL. */
  stopGraceSeconds?: number;
  /** Human log lines (start-up, deliveries that failed); silent by default. */
  log?: (line: string) => void;
  /** SNS delivery retries: the backoff unit in ms (default 10 000; tests make it small). */
  sns?: Pick<SnsServiceOptions, "backoffBaseMs">;
}

export interface LocalCloud {
  readonly endpoint: string;
  readonly port: number;
  /** Where the stack's HTTP API routes are served (API Gateway's invoke URL, `$default` stage). */
  readonly apiEndpoint: string;
  readonly api: ApiGatewayService;
  readonly stateDir: string;
  readonly region: string;
  readonly account: string;
  readonly stack: ResolvedStack | undefined;
  readonly inboxBucket: string | undefined;
  readonly objects: ObjectStore;
  readonly dynamodb: DynamoDbService;
  readonly sns: SnsService;
  readonly ssm: SsmService;
  readonly logs: LogsService;
  readonly sagemaker: SageMakerService;
  readonly events: EventBridgeService;
  readonly stepFunctions: StepFunctionsService;
  readonly functions: FunctionRunner;
  readonly inbox: InboxWatcher | undefined;
  stop(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const stateDir = resolve(options.stateDir);
  const region = options.region ?? "us-east-1";
  const log = options.log ?? (() => {});
  const python = options.python ?? resolve(PROJECT_ROOT, ".venv", "bin", "python");
  mkdirSync(stateDir, { recursive: true });

  const objects = new ObjectStore(resolve(stateDir, "s3"));
  const s3 = new S3Service(objects);
  const dynamodb = new DynamoDbService(stateDir);
  await dynamodb.start();
  const logs = new LogsService(stateDir);
  const sns = new SnsService(stateDir, region, LOCAL_ACCOUNT, { ...options.sns, logs });
  const ssm = new SsmService(stateDir, region, LOCAL_ACCOUNT);
  const events = new EventBridgeService(stateDir, region, LOCAL_ACCOUNT);
  const sagemaker = new SageMakerService({
    stateDir,
    region,
    account: LOCAL_ACCOUNT,
    store: objects,
    logs,
    python,
    slots: options.jobSlots ?? defaultJobSlots(),
    ...(options.stopGraceSeconds === undefined
      ? {}
      : { stopGraceSeconds: options.stopGraceSeconds }),
  });
  const stepFunctions = new StepFunctionsService(
    stateDir,
    region,
    LOCAL_ACCOUNT,
    sagemaker,
    sns,
    (event) => void events.put(event),
  );
  const jsonServices: Record<string, JsonService> = {
    ssm,
    logs,
    sagemaker,
    states: stepFunctions,
    events,
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://local");
    const scope = scopeFromHeaders(req) ?? scopeFromQuery(url.searchParams);
    const service = scope?.service ?? (isBrowserPost(req) ? "s3" : undefined);
    if (service === "s3") return s3.handle(req, res, url);
    if (service === "dynamodb") return dynamodb.handle(req, res);
    if (service === "sns") return sns.handle(req, res);
    const json = service ? jsonServices[service] : undefined;
    if (json) return serveJson(json, req, res);
    if (!service && req.method === "GET" && url.pathname === "/_modeldrop/health") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ ok: true, stateDir }));
    }
    throw new AwsError(
      "UnrecognizedClientException",
      service
        ? `the local cloud does not serve ${service}`
        : "the request is not signed with SigV4, so its service is unknown",
      400,
    );
  };
  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJsonError(
        res,
        error instanceof AwsError ? error : new AwsError("InternalFailure", String(error), 500),
      );
    });
  });
  const port = await listen(server, options.port ?? 0);
  const endpoint = `http://127.0.0.1:${port}`;

  // Functions reach the local cloud through the SDK's standard endpoint variable.
  const functions = new FunctionRunner(logs, region, LOCAL_ACCOUNT, {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    MODELDROP_LOCAL_CLOUD: "1",
    NODE_OPTIONS: "--enable-source-maps",
  });
  const invokeTarget = async (arn: string, input: unknown): Promise<InvokeResult> => {
    if (arn.startsWith("arn:aws:lambda:")) return functions.invoke(arn, input);
    if (arn.startsWith("arn:aws:states:")) {
      stepFunctions.startExecution(arn, randomUUID(), JSON.stringify(input));
      return { payload: null };
    }
    if (arn.startsWith("arn:aws:sns:")) {
      await sns.publish(arn, typeof input === "string" ? input : JSON.stringify(input));
      return { payload: null };
    }
    throw new Error(`the local cloud cannot deliver to ${arn}`);
  };
  stepFunctions.invokeFunction = (name, payload) => functions.invoke(name, payload);
  const api = new ApiGatewayService(
    region,
    LOCAL_ACCOUNT,
    (arn, event) => functions.invoke(arn, event),
    log,
  );
  const apiServer = createServer((req, res) => {
    api.handle(req, res).catch(() => res.destroy());
  });
  let apiPort: number;
  try {
    apiPort = await listen(apiServer, options.apiPort ?? 0);
  } catch (error) {
    server.close();
    await dynamodb.stop();
    throw error;
  }
  const apiEndpoint = `http://127.0.0.1:${apiPort}`;
  sns.invokeFunction = (arn, event) => functions.invoke(arn, event);
  sns.onDeliveryError = (subscription, error) =>
    log(`sns: delivery to ${subscription} failed: ${String(error)}`);
  events.invokeTarget = invokeTarget;
  events.onDeliveryError = (rule, target, error) =>
    log(`eventbridge: rule ${rule} could not deliver to ${target}: ${error}`);
  objects.onCreated = (created) => void events.put(objectCreatedEvent(created, region));
  objects.onDeleted = (deleted) => void events.put(objectDeletedEvent(deleted, region));

  let stack: ResolvedStack | undefined;
  try {
    if (options.stack) {
      stack = resolveStack(options.stack, region, LOCAL_ACCOUNT, { apiEndpoint });
      await applyStack(stack, options.stack, {
        stateDir,
        python,
        objects,
        dynamodb,
        sns,
        ssm,
        events,
        stepFunctions,
        functions,
        api,
      });
      if (stack.ignored.length > 0)
        log(`stack: not emulated (accepted and ignored): ${stack.ignored.join(", ")}`);
    }
  } catch (error) {
    server.close();
    apiServer.close();
    await dynamodb.stop();
    await functions.stop();
    throw error;
  }
  for (const name of sagemaker.reconcileAfterRestart())
    log(`sagemaker: job ${name} was running when the local cloud stopped; marked Failed`);
  for (const arn of stepFunctions.reconcileAfterRestart())
    log(`stepfunctions: execution ${arn} was running when the local cloud stopped; marked FAILED`);
  const resumed = events.resumePending();
  if (resumed > 0) log(`eventbridge: delivering ${resumed} event(s) accepted before the last stop`);
  const owed = sns.resumePending();
  if (owed > 0) log(`sns: delivering ${owed} message(s) accepted before the last stop`);

  const inboxBucket = options.inbox?.bucket ?? stack?.outputs.DataBucketName;
  let inbox: InboxWatcher | undefined;
  if (options.inbox && inboxBucket) {
    mkdirSync(options.inbox.folder, { recursive: true });
    inbox = new InboxWatcher({
      folder: resolve(options.inbox.folder),
      stateDir,
      store: objects,
      bucket: inboxBucket,
      log,
      ...(options.inbox.intervalMs ? { intervalMs: options.inbox.intervalMs } : {}),
    });
    inbox.start();
  }

  let stopped = false;
  return {
    endpoint,
    port,
    apiEndpoint,
    api,
    stateDir,
    region,
    account: LOCAL_ACCOUNT,
    stack,
    inboxBucket,
    objects,
    dynamodb,
    sns,
    ssm,
    logs,
    sagemaker,
    events,
    stepFunctions,
    functions,
    inbox,
    async stop() {
      if (stopped) return;
      stopped = true;
      inbox?.stop();
      await sagemaker.shutdown();
      await events.settle();
      await sns.shutdown();
      for (const listener of [server, apiServer]) {
        listener.closeAllConnections();
        await new Promise<void>((done) => listener.close(() => done()));
      }
      await functions.stop();
      await dynamodb.stop();
    },
  };
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((done, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => done());
  });
  return (server.address() as AddressInfo).port;
}

function isBrowserPost(req: IncomingMessage): boolean {
  return (
    req.method === "POST" &&
    String(req.headers["content-type"] ?? "").startsWith("multipart/form-data")
  );
}

/** S3 keys in event notifications are URL-encoded with `+` for a space, as S3 sends them. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replaceAll("%2F", "/").replaceAll("%20", "+");
}

function eventEnvelope(
  detailType: string,
  bucket: string,
  region: string,
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": detailType,
    source: "aws.s3",
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: "0",
      bucket: { name: bucket },
      ...detail,
      "request-id": randomUUID(),
      requester: LOCAL_ACCOUNT,
      "source-ip-address": "127.0.0.1",
    },
  };
}

function objectCreatedEvent(e: ObjectCreated, region: string): Record<string, unknown> {
  const object = {
    key: encodeEventKey(e.key),
    size: e.version.size,
    etag: e.version.etag.replaceAll('"', ""),
    sequencer: e.sequencer,
    ...(e.version.versionId === "null" ? {} : { "version-id": e.version.versionId }),
  };
  return eventEnvelope("Object Created", e.bucket, region, { object, reason: e.reason });
}

function objectDeletedEvent(e: ObjectDeleted, region: string): Record<string, unknown> {
  const object = {
    key: encodeEventKey(e.key),
    sequencer: e.sequencer,
    ...(e.versionId === "null" ? {} : { "version-id": e.versionId }),
  };
  return eventEnvelope("Object Deleted", e.bucket, region, {
    object,
    reason: "DeleteObject",
    "deletion-type": e.deletionType,
  });
}
