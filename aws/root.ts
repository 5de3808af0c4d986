/**
 * The composition root: the AWS implementations of the application's ports (app/ports.ts),
 * each made on first use from the function's configuration, so importing a handler reads no
 * environment and a missing variable fails with its name when a port first needs it.
 */
import type { Ports } from "../app/ports.js";
import {
  dynamo,
  eventBridge,
  logs,
  s3,
  sagemaker,
  sagemakerRuntime,
  sfn,
  sns,
  ssm,
} from "./clients.js";
import { CodeStore } from "./code-store.js";
import { config } from "./config.js";
import { DeliveryStatusLogs } from "./delivery-status.js";
import { EndpointsStore } from "./endpoints-store.js";
import { SageMakerHosting } from "./hosting.js";
import { JobLogs } from "./job-logs.js";
import { logger } from "./logger.js";
import { ModelEventBus } from "./model-events.js";
import { ModelsStore } from "./models-store.js";
import { NoticePublisher } from "./notices.js";
import { Objects } from "./objects.js";
import { PipelineStarter } from "./pipeline.js";
import { RunsStore } from "./runs-store.js";
import { SsmSecrets } from "./secrets.js";

/** An object whose properties are each made on first read and kept. */
function lazily<T extends object>(makers: { [K in keyof T]: () => T[K] }): T {
  const made: Partial<T> = {};
  const ports = {} as T;
  for (const name of Object.keys(makers) as (keyof T)[]) {
    Object.defineProperty(ports, name, {
      enumerable: true,
      get: () => {
        made[name] ??= makers[name]();
        return made[name];
      },
    });
  }
  return ports;
}

export const ports: Ports = lazily<Ports>({
  runs: () => new RunsStore(dynamo(), config().tables.runs),
  models: () => new ModelsStore(dynamo(), config().tables.models),
  modelEvents: () => new ModelEventBus(eventBridge()),
  code: () => new CodeStore(dynamo(), config().tables.code),
  objects: () => new Objects(s3()),
  pipeline: () => new PipelineStarter(sfn(), config().stateMachines.pipeline),
  predictions: () => new PipelineStarter(sfn(), config().stateMachines.predict),
  notices: () => new NoticePublisher(sns(), config().noticeTopicArn),
  endpoints: () => new EndpointsStore(dynamo(), config().tables.endpoints),
  hosting: () => new SageMakerHosting(sagemaker(), sagemakerRuntime(), config().endpointRoleArn),
  jobLogs: () => new JobLogs(logs()),
  deliveryStatus: () => new DeliveryStatusLogs(logs(), config().noticeTopicArn),
  secrets: () => new SsmSecrets(ssm()),
  log: () => logger,
  now: () => () => new Date(),
});
