// The local cloud's services, built in an order where each one is handed what it calls when it
// is constructed: S3 notifies EventBridge, EventBridge delivers to functions, state machines and
// topics, Step Functions runs SageMaker jobs, Lambda tasks and SNS publishes and reports its
// status changes to EventBridge, SNS and API Gateway invoke functions.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ApiGatewayService } from "./api-gateway.js";
import { DynamoDbService } from "./dynamodb.js";
import { type EventBridgeOptions, EventBridgeService, type TargetInvoker } from "./eventbridge.js";
import { FunctionRunner } from "./lambda.js";
import { LogsService } from "./logs.js";
import { S3Service } from "./s3.js";
import { s3NotificationsTo } from "./s3-events.js";
import { ObjectStore } from "./s3-store.js";
import { SageMakerService } from "./sagemaker.js";
import { SnsService, type SnsServiceOptions } from "./sns.js";
import { SsmService } from "./ssm.js";
import { type FunctionInvoker, StepFunctionsService } from "./stepfunctions.js";
import { StsService } from "./sts.js";

export interface CloudSettings {
  /** Absolute; every service keeps its state in a folder of its own under it. */
  stateDir: string;
  region: string;
  account: string;
  /** The Python that runs SageMaker jobs. */
  python: string;
  jobSlots: number;
  stopGraceSeconds: number | undefined;
  sns: Pick<SnsServiceOptions, "backoffBaseMs"> | undefined;
  events: Pick<EventBridgeOptions, "scheduleSpeedup"> | undefined;
  log: (line: string) => void;
}

export interface Services {
  objects: ObjectStore;
  s3: S3Service;
  dynamodb: DynamoDbService;
  logs: LogsService;
  ssm: SsmService;
  functions: FunctionRunner;
  sns: SnsService;
  events: EventBridgeService;
  sagemaker: SageMakerService;
  stepFunctions: StepFunctionsService;
  sts: StsService;
  api: ApiGatewayService;
}

/**
 * Builds every service and starts dynalite (the one that holds anything when this returns, so a
 * failure before it leaves nothing to close). `awsEndpoint` is the local cloud's AWS endpoint,
 * asked for when a function's first sandbox starts: the endpoint listens only once the services
 * it serves exist, and functions run only once the stack defining them is applied after that.
 */
export async function buildServices(
  settings: CloudSettings,
  awsEndpoint: () => string,
): Promise<Services> {
  const { stateDir, region, account, log } = settings;
  mkdirSync(stateDir, { recursive: true });
  const logs = new LogsService(stateDir);
  const ssm = new SsmService(stateDir, region, account);
  const dynamodb = new DynamoDbService(stateDir);
  const functions = new FunctionRunner(logs, region, account, () =>
    functionEnvironment(region, awsEndpoint()),
  );
  const invokeFunction: FunctionInvoker = (nameOrArn, event) => functions.invoke(nameOrArn, event);
  const sns = new SnsService(stateDir, region, account, {
    ...settings.sns,
    logs,
    invokeFunction,
    onDeliveryError: (subscription, error) =>
      log(`sns: delivery to ${subscription} failed: ${String(error)}`),
  });
  // The one cycle: EventBridge starts executions, and Step Functions sends its status changes
  // to EventBridge (directly, and through SageMaker's uploads to S3). EventBridge is built first
  // and finds Step Functions when it delivers, which is never before this function returns: no
  // event is put until a request, the stack or a resumed delivery causes one.
  const events = new EventBridgeService(stateDir, region, account, {
    ...settings.events,
    invokeTarget: eventTargets({
      functions,
      sns,
      stepFunctions: (): StepFunctionsService => stepFunctions,
    }),
    onDeliveryError: (rule, target, error) =>
      log(`eventbridge: rule ${rule} could not deliver to ${target}: ${error}`),
  });
  const objects = new ObjectStore(join(stateDir, "s3"), s3NotificationsTo(events, region, account));
  const s3 = new S3Service(objects, region, account);
  const sagemaker = new SageMakerService({
    stateDir,
    region,
    account,
    store: objects,
    logs,
    python: settings.python,
    slots: settings.jobSlots,
    onEvent: (event) => void events.put(event),
    ...(settings.stopGraceSeconds === undefined
      ? {}
      : { stopGraceSeconds: settings.stopGraceSeconds }),
  });
  const stepFunctions = new StepFunctionsService(
    stateDir,
    region,
    account,
    sagemaker,
    sns,
    (event) => void events.put(event),
    invokeFunction,
  );
  const sts = new StsService(account);
  const api = new ApiGatewayService(region, account, invokeFunction, log);
  await dynamodb.start();
  return {
    objects,
    s3,
    dynamodb,
    logs,
    ssm,
    functions,
    sns,
    events,
    sagemaker,
    stepFunctions,
    sts,
    api,
  };
}

/** Functions reach the local cloud through the SDK's standard endpoint variable. */
function functionEnvironment(region: string, endpoint: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    MODELDROP_LOCAL_CLOUD: "1",
    NODE_OPTIONS: "--enable-source-maps",
  };
}

/** EventBridge's targets, by the service their ARN names. */
function eventTargets(targets: {
  functions: FunctionRunner;
  sns: SnsService;
  /** A getter: Step Functions is built after EventBridge (see buildServices). */
  stepFunctions: () => StepFunctionsService;
}): TargetInvoker {
  return async (arn, input) => {
    if (arn.startsWith("arn:aws:lambda:")) return targets.functions.invoke(arn, input);
    if (arn.startsWith("arn:aws:states:")) {
      targets.stepFunctions().startExecution(arn, randomUUID(), JSON.stringify(input));
      return { payload: null };
    }
    if (arn.startsWith("arn:aws:sns:")) {
      await targets.sns.publish(arn, typeof input === "string" ? input : JSON.stringify(input));
      return { payload: null };
    }
    throw new Error(`the local cloud cannot deliver to ${arn}`);
  };
}
