/**
 * The composition root: the stores and publishers handlers use, each made once on first use
 * from the function's environment (a missing variable fails with its name).
 */
import { dynamo, logs, s3, sfn, sns, ssm } from "./clients.js";
import { readEnvironment } from "./config.js";
import { DeliveryStatusLogs } from "./delivery-status.js";
import { JobLogs } from "./job-logs.js";
import { ModelsStore } from "./models-store.js";
import { NoticePublisher } from "./notices.js";
import { Objects } from "./objects.js";
import { PipelineStarter } from "./pipeline.js";
import { RunsStore } from "./runs-store.js";
import { SecretReader } from "./secrets.js";

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

export const root = {
  runs: once(() => new RunsStore(dynamo(), readEnvironment(["RUNS_TABLE"]).RUNS_TABLE)),
  models: once(() => new ModelsStore(dynamo(), readEnvironment(["MODELS_TABLE"]).MODELS_TABLE)),
  objects: once(() => new Objects(s3())),
  pipeline: once(() => new PipelineStarter(sfn(), readEnvironment(["PIPELINE_ARN"]).PIPELINE_ARN)),
  notices: once(
    () => new NoticePublisher(sns(), readEnvironment(["NOTICE_TOPIC_ARN"]).NOTICE_TOPIC_ARN),
  ),
  predictions: once(() => new PipelineStarter(sfn(), readEnvironment(["PREDICT_ARN"]).PREDICT_ARN)),
  secrets: once(() => new SecretReader(ssm())),
  jobLogs: once(() => new JobLogs(logs())),
  deliveryStatus: once(
    () => new DeliveryStatusLogs(logs(), readEnvironment(["NOTICE_TOPIC_ARN"]).NOTICE_TOPIC_ARN),
  ),
};
export type Root = typeof root;
