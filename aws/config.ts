/**
 * The one configuration module: the function's environment (the stack sets the same variables
 * on every function, serverless.yml `provider.environment`), parsed with one schema the first
 * time a function needs it and kept for the life of the execution environment. A missing or
 * malformed variable fails with its name, every such variable at once, instead of as
 * `undefined` deep inside a call.
 */
import { z } from "zod";
import type { LaunchSettings } from "../app/launch.js";
import type { ApiSettings } from "../app/runs.js";

const InstanceType = z
  .string()
  .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, "must be a SageMaker instance type");

const Environment = z.object({
  AWS_REGION: z.string().min(1),
  DATA_BUCKET: z.string().min(1),
  RUNS_TABLE: z.string().min(1),
  MODELS_TABLE: z.string().min(1),
  CODE_TABLE: z.string().min(1),
  ENDPOINTS_TABLE: z.string().min(1),
  NOTICE_TOPIC_ARN: z.string().startsWith("arn:"),
  PIPELINE_ARN: z.string().startsWith("arn:"),
  PREDICT_ARN: z.string().startsWith("arn:"),
  ENDPOINT_ROLE_ARN: z.string().startsWith("arn:"),
  CODE_SHA256: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of sourcedir.tar.gz"),
  SLACK_WEBHOOK_PARAMETER: z.string().min(1),
  API_TOKEN_PARAMETER: z.string().startsWith("/"),
  PROCESSING_INSTANCE_TYPE: InstanceType,
  TRAINING_INSTANCE_TYPE: InstanceType,
  IMAGE_TRAINING_INSTANCE_TYPE: InstanceType,
  TRANSFORM_INSTANCE_TYPE: InstanceType,
  TRAINING_PARALLEL_JOBS: z.coerce.number().int().min(1).max(20),
});
type Environment = z.infer<typeof Environment>;

/** What the functions are configured with, in the shapes the workflows take. */
export interface Config {
  region: string;
  bucket: string;
  tables: { runs: string; models: string; code: string; endpoints: string };
  noticeTopicArn: string;
  stateMachines: { pipeline: string; predict: string };
  /** The role SageMaker endpoints run with (reads model artifacts, writes logs). */
  endpointRoleArn: string;
  parameters: { slackWebhook: string; apiToken: string };
  /** Every run the functions start: the region, the ml/ code's hash, the instance defaults. */
  launch: LaunchSettings;
  /** The REST API's run routes: `launch` plus the data bucket. */
  api: ApiSettings;
}

export class ConfigurationInvalid extends Error {
  override readonly name = "ConfigurationInvalid";
}

/** The configuration in `env`, or ConfigurationInvalid naming every variable at fault. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}: ${env[name] === undefined ? "not set" : issue.message}`;
    });
    throw new ConfigurationInvalid(`function configuration is incomplete: ${problems.join("; ")}`);
  }
  return fromEnvironment(parsed.data);
}

function fromEnvironment(env: Environment): Config {
  const launch: LaunchSettings = {
    region: env.AWS_REGION,
    codeSha256: env.CODE_SHA256,
    instanceDefaults: {
      processing: env.PROCESSING_INSTANCE_TYPE,
      training: env.TRAINING_INSTANCE_TYPE,
      trainingImages: env.IMAGE_TRAINING_INSTANCE_TYPE,
      transform: env.TRANSFORM_INSTANCE_TYPE,
    },
    parallelJobs: env.TRAINING_PARALLEL_JOBS,
  };
  return {
    region: env.AWS_REGION,
    bucket: env.DATA_BUCKET,
    tables: {
      runs: env.RUNS_TABLE,
      models: env.MODELS_TABLE,
      code: env.CODE_TABLE,
      endpoints: env.ENDPOINTS_TABLE,
    },
    noticeTopicArn: env.NOTICE_TOPIC_ARN,
    stateMachines: { pipeline: env.PIPELINE_ARN, predict: env.PREDICT_ARN },
    endpointRoleArn: env.ENDPOINT_ROLE_ARN,
    parameters: {
      slackWebhook: env.SLACK_WEBHOOK_PARAMETER,
      apiToken: env.API_TOKEN_PARAMETER,
    },
    launch,
    api: { ...launch, bucket: env.DATA_BUCKET },
  };
}

let parsed: Config | undefined;

/** This function's configuration, parsed from process.env once. */
export function config(): Config {
  parsed ??= parseConfig(process.env);
  return parsed;
}
