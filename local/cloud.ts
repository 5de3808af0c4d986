// The local cloud: one HTTP endpoint that serves the AWS APIs modeldrop uses, routing each
// request by the service in its SigV4 credential scope. It is built from the packaged stack,
// keeps its state under one folder, and reconciles what died with the previous process.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiGatewayService } from "./api-gateway.js";
import { applyStack } from "./apply-stack.js";
import type { DynamoDbService } from "./dynamodb.js";
import { type Listener, listenForAwsApis, listenForHttpApi } from "./endpoints.js";
import type { EventBridgeOptions, EventBridgeService } from "./eventbridge.js";
import { InboxWatcher } from "./inbox-watcher.js";
import type { FunctionRunner } from "./lambda.js";
import type { LogsService } from "./logs.js";
import type { ObjectStore } from "./s3-store.js";
import type { SageMakerService } from "./sagemaker.js";
import { defaultJobSlots } from "./sagemaker-runner.js";
import { buildServices, type CloudSettings, type Services } from "./services.js";
import type { SnsService, SnsServiceOptions } from "./sns.js";
import type { SsmService } from "./ssm.js";
import { type ResolvedStack, resolveStack, type StackInput } from "./stack.js";
import type { StepFunctionsService } from "./stepfunctions.js";

export { encodeEventKey } from "./s3-events.js";

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
  /** Scheduled rules: `scheduleSpeedup` divides every period (default 1; tests make it large). */
  events?: Pick<EventBridgeOptions, "scheduleSpeedup">;
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
  const settings = cloudSettings(options);
  const started: Started = {};
  const stop = stopOnce(started);
  try {
    const services = await buildServices(settings, () => awsEndpointOf(started));
    started.services = services;
    const aws = await listenForAwsApis(services, settings.stateDir, options.port ?? 0);
    started.aws = aws;
    const httpApi = await listenForHttpApi(services.api, options.apiPort ?? 0);
    started.httpApi = httpApi;
    const stack = await applyPackagedStack(options.stack, services, settings, httpApi.endpoint);
    reconcileAfterRestart(services, settings.log);
    // Only now, with the stack's functions defined, can a scheduled rule's tick reach its target.
    services.events.startSchedules();
    const inboxBucket = options.inbox?.bucket ?? stack?.outputs.DataBucketName;
    const inbox = watchInbox(options.inbox, inboxBucket, services.objects, settings);
    started.inbox = inbox;
    return {
      endpoint: aws.endpoint,
      port: aws.port,
      apiEndpoint: httpApi.endpoint,
      api: services.api,
      stateDir: settings.stateDir,
      region: settings.region,
      account: settings.account,
      stack,
      inboxBucket,
      objects: services.objects,
      dynamodb: services.dynamodb,
      sns: services.sns,
      ssm: services.ssm,
      logs: services.logs,
      sagemaker: services.sagemaker,
      events: services.events,
      stepFunctions: services.stepFunctions,
      functions: services.functions,
      inbox,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function cloudSettings(options: LocalCloudOptions): CloudSettings {
  return {
    stateDir: resolve(options.stateDir),
    region: options.region ?? "us-east-1",
    account: LOCAL_ACCOUNT,
    python: options.python ?? resolve(PROJECT_ROOT, ".venv", "bin", "python"),
    jobSlots: options.jobSlots ?? defaultJobSlots(),
    stopGraceSeconds: options.stopGraceSeconds,
    sns: options.sns,
    events: options.events,
    log: options.log ?? (() => {}),
  };
}

/** What a start has brought up so far: what stopping closes, after a run or a failed start. */
interface Started {
  services?: Services;
  aws?: Listener;
  httpApi?: Listener;
  inbox?: InboxWatcher | undefined;
}

function awsEndpointOf(started: Started): string {
  if (!started.aws) throw new Error("the local cloud's AWS endpoint is not listening yet");
  return started.aws.endpoint;
}

/** `LocalCloud.stop`: a second call waits for the first stop instead of starting another. */
function stopOnce(started: Started): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= stopInOrder(started);
    return stopping;
  };
}

/**
 * The one way the local cloud stops. Nothing new comes in (the inbox, the scheduled rules'
 * ticks), then the work under way is brought to an end while everything it calls still runs:
 * jobs get SIGTERM (their executions end, and the status events that causes are delivered
 * next), EventBridge delivers what it accepted (its targets call the endpoint, the functions
 * and DynamoDB), SNS stops its retries (what is owed stays pending for the next start). Only
 * then do the listeners, the function workers and dynalite close. Each step skips what a failed
 * start never reached.
 */
async function stopInOrder({ inbox, services, aws, httpApi }: Started): Promise<void> {
  inbox?.stop();
  services?.events.stopSchedules();
  await services?.sagemaker.shutdown();
  await services?.events.settle();
  await services?.sns.shutdown();
  await aws?.close();
  await httpApi?.close();
  await services?.functions.stop();
  await services?.dynamodb.stop();
}

/** Creates the packaged stack's resources in the services; without a stack they start empty. */
async function applyPackagedStack(
  input: StackInput | undefined,
  services: Services,
  settings: CloudSettings,
  apiEndpoint: string,
): Promise<ResolvedStack | undefined> {
  if (!input) return undefined;
  const stack = resolveStack(input, settings.region, settings.account, { apiEndpoint });
  await applyStack(stack, input, {
    ...services,
    stateDir: settings.stateDir,
    python: settings.python,
  });
  if (stack.ignored.length > 0)
    settings.log(`stack: not emulated (accepted and ignored): ${stack.ignored.join(", ")}`);
  return stack;
}

/**
 * Settles what the previous process left unfinished, once the stack's rules, targets and
 * functions exist: its jobs and executions are failed (the executions' status events go out as
 * AWS would send them), then the events and messages it had accepted are delivered.
 */
function reconcileAfterRestart(services: Services, log: (line: string) => void): void {
  for (const name of services.sagemaker.reconcileAfterRestart())
    log(`sagemaker: job ${name} was running when the local cloud stopped; marked Failed`);
  for (const line of services.sagemaker.hosting.reconcileAfterRestart()) log(`sagemaker: ${line}`);
  for (const arn of services.stepFunctions.reconcileAfterRestart())
    log(`stepfunctions: execution ${arn} was running when the local cloud stopped; marked FAILED`);
  const resumed = services.events.resumePending();
  if (resumed > 0) log(`eventbridge: delivering ${resumed} event(s) accepted before the last stop`);
  const owed = services.sns.resumePending();
  if (owed > 0) log(`sns: delivering ${owed} message(s) accepted before the last stop`);
}

/** Starts watching the inbox folder when one is asked for and there is a bucket to upload to. */
function watchInbox(
  inbox: LocalCloudOptions["inbox"],
  bucket: string | undefined,
  store: ObjectStore,
  settings: CloudSettings,
): InboxWatcher | undefined {
  if (!inbox || !bucket) return undefined;
  mkdirSync(inbox.folder, { recursive: true });
  const watcher = new InboxWatcher({
    folder: resolve(inbox.folder),
    stateDir: settings.stateDir,
    store,
    bucket,
    log: settings.log,
    ...(inbox.intervalMs ? { intervalMs: inbox.intervalMs } : {}),
  });
  watcher.start();
  return watcher;
}
