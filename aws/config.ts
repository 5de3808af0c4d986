/**
 * Configuration from the function's environment, read once at init and checked with a schema,
 * so a missing variable fails with its name instead of as `undefined` deep inside a call.
 */
import { z } from "zod";
import type { InstanceDefaults } from "../core/pipeline-input.js";

const InstanceType = z
  .string()
  .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, "must be a SageMaker instance type");

const Environment = z.object({
  AWS_REGION: z.string().min(1),
  DATA_BUCKET: z.string().min(1),
  RUNS_TABLE: z.string().min(1),
  MODELS_TABLE: z.string().min(1),
  NOTICE_TOPIC_ARN: z.string().startsWith("arn:"),
  PIPELINE_ARN: z.string().startsWith("arn:"),
  CODE_SHA256: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of sourcedir.tar.gz"),
  SLACK_WEBHOOK_PARAMETER: z.string().min(1),
  API_TOKEN_PARAMETER: z.string().startsWith("/"),
  PREDICT_ARN: z.string().startsWith("arn:"),
  PROCESSING_INSTANCE_TYPE: InstanceType,
  TRAINING_INSTANCE_TYPE: InstanceType,
  IMAGE_TRAINING_INSTANCE_TYPE: InstanceType,
  TRANSFORM_INSTANCE_TYPE: InstanceType,
});
export type Environment = z.infer<typeof Environment>;

/** The named variables, or an error listing every one that is missing or malformed. */
export function readEnvironment<K extends keyof Environment>(
  names: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<Environment, K> {
  const values: Partial<Record<K, string>> = {};
  const problems: string[] = [];
  for (const name of names) {
    const parsed = Environment.shape[name].safeParse(env[name]);
    if (parsed.success) values[name] = parsed.data;
    else
      problems.push(
        `${name}: ${env[name] === undefined ? "not set" : parsed.error.issues[0]?.message}`,
      );
  }
  if (problems.length > 0)
    throw new Error(`function configuration is incomplete: ${problems.join("; ")}`);
  return values as Pick<Environment, K>;
}

/** The deployment's default instance types (stack parameters, passed as variables). */
export function instanceDefaults(env: NodeJS.ProcessEnv = process.env): InstanceDefaults {
  const values = readEnvironment(
    [
      "PROCESSING_INSTANCE_TYPE",
      "TRAINING_INSTANCE_TYPE",
      "IMAGE_TRAINING_INSTANCE_TYPE",
      "TRANSFORM_INSTANCE_TYPE",
    ],
    env,
  );
  return {
    processing: values.PROCESSING_INSTANCE_TYPE,
    training: values.TRAINING_INSTANCE_TYPE,
    trainingImages: values.IMAGE_TRAINING_INSTANCE_TYPE,
    transform: values.TRANSFORM_INSTANCE_TYPE,
  };
}
