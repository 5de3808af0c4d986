/**
 * Configuration from the function's environment, read once at init and checked with a schema,
 * so a missing variable fails with its name instead of as `undefined` deep inside a call.
 */
import { z } from "zod";

const Environment = z.object({
  AWS_REGION: z.string().min(1),
  DATA_BUCKET: z.string().min(1),
  RUNS_TABLE: z.string().min(1),
  MODELS_TABLE: z.string().min(1),
  NOTICE_TOPIC_ARN: z.string().startsWith("arn:"),
  PIPELINE_ARN: z.string().startsWith("arn:"),
  CODE_SHA256: z.string().regex(/^[0-9a-f]{64}$/, "must be the sha256 of sourcedir.tar.gz"),
  SLACK_WEBHOOK_PARAMETER: z.string().min(1),
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
