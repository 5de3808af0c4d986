/**
 * `modeldrop deploy`: builds ml/ into its content-addressed archive, deploys the stack with
 * `serverless deploy` (osls) passing the archive's hash and the chosen parameters, and stores
 * the archive at `code/<sha256>/` in the stack's bucket. On an update the code is stored before
 * the stack changes, so no run ever starts with a hash whose code is missing; on a first deploy
 * the bucket only exists afterwards, and nothing can have been dropped yet.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { deployment } from "../aws/deployment.js";
import { buildDashboard } from "../web/build.js";
import { CliError } from "./client.js";
import { buildCode } from "./stage-code.js";
import { type Flags, HELP_FLAGS } from "./usage.js";

const instance = (step: string) =>
  ({
    type: "string",
    value: "TYPE",
    description: `the SageMaker instance type for ${step} (default: serverless.yml's)`,
  }) as const;

/** `modeldrop deploy`'s flags: what `deployPlan` parses and `modeldrop deploy --help` lists. */
export const DEPLOY_FLAGS = {
  stage: {
    type: "string",
    default: "dev",
    value: "S",
    description: "the stage; the stack is modeldrop-<stage> (default dev)",
  },
  region: {
    type: "string",
    value: "R",
    description: "the AWS region (default AWS_REGION, then us-east-1)",
  },
  email: { type: "string", value: "ADDRESS", description: "where each run's notice is emailed" },
  "slack-parameter": {
    type: "string",
    value: "NAME",
    description: "the SSM parameter that holds a Slack webhook URL for notices",
  },
  "processing-instance": instance("preprocessing and evaluation"),
  "training-instance": instance("training"),
  "image-training-instance": instance("training on images"),
  "transform-instance": instance("batch predictions"),
  "dry-run": {
    type: "boolean",
    default: false,
    description: "print what it would run and store, and touch nothing",
  },
  ...HELP_FLAGS,
} as const satisfies Flags;

/** CLI flag → the serverless.yml `param` it sets. */
const PARAMETERS = [
  ["email", "noticeEmail"],
  ["slack-parameter", "slackWebhookParameter"],
  ["processing-instance", "processingInstanceType"],
  ["training-instance", "trainingInstanceType"],
  ["image-training-instance", "imageTrainingInstanceType"],
  ["transform-instance", "transformInstanceType"],
] as const;

export interface DeployPlan {
  stackName: string;
  region: string;
  /** argv after `serverless`. */
  serverlessArgs: string[];
  codeSha256: string;
}

export function deployPlan(argv: string[], codeSha256: string): DeployPlan | { error: string } {
  let values: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof DEPLOY_FLAGS }>
  >["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: DEPLOY_FLAGS }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const stage = values.stage;
  if (!/^[a-zA-Z0-9-]{1,16}$/.test(stage))
    return { error: `--stage must be 1-16 letters, digits or hyphens, not ${stage}` };
  const region = values.region ?? process.env.AWS_REGION ?? "us-east-1";
  const args = [
    "deploy",
    "--stage",
    stage,
    "--region",
    region,
    "--param",
    `codeSha256=${codeSha256}`,
  ];
  for (const [flag, param] of PARAMETERS) {
    const value = values[flag];
    if (value) args.push("--param", `${param}=${value}`);
  }
  return { stackName: `modeldrop-${stage}`, region, serverlessArgs: args, codeSha256 };
}

export async function deploy(argv: string[], projectRoot: string): Promise<number> {
  const code = buildCode(projectRoot);
  const plan = deployPlan(argv, code.sha256);
  if ("error" in plan) throw new CliError(plan.error, 2);
  const serverless = join(projectRoot, "node_modules", "serverless", "bin", "serverless.js");
  if (argv.includes("--dry-run")) {
    console.log(`code:   ${code.archive} (sha256 ${code.sha256})`);
    console.log(`deploy: serverless ${plan.serverlessArgs.join(" ")}`);
    console.log(`store:  s3://<DataBucketName of ${plan.stackName}>/code/${code.sha256}/`);
    return 0;
  }
  buildDashboard(projectRoot);
  const aws = deployment({ region: plan.region });
  const before = await aws.stackOutputs(plan.stackName);
  if (before?.DataBucketName) await aws.uploadCode(before.DataBucketName, code);
  const result = spawnSync(process.execPath, [serverless, ...plan.serverlessArgs], {
    cwd: projectRoot,
    stdio: "inherit",
  });
  if (result.status !== 0)
    throw new CliError(`serverless deploy ended with code ${result.status}`, 1, {
      code: "deploy-failed",
    });
  const after = await aws.stackOutputs(plan.stackName);
  if (!after?.DataBucketName)
    throw new CliError(`${plan.stackName} has no DataBucketName output`, 1, {
      code: "deploy-failed",
    });
  await aws.uploadCode(after.DataBucketName, code);
  const tokenParameter = after.ApiTokenParameterName ?? "";
  const created = await aws.ensureSecret(tokenParameter, () =>
    randomBytes(32).toString("base64url"),
  );
  console.log(`deployed ${plan.stackName} in ${plan.region}`);
  // The token is never printed: it is read from SSM by whoever may read that parameter.
  console.log(
    `API token: ${created ? "created in" : "kept in"} SSM ${tokenParameter}; export MODELDROP_TOKEN=$(aws ssm get-parameter --name ${tokenParameter} --with-decryption --query Parameter.Value --output text --region ${plan.region})`,
  );
  for (const [name, value] of Object.entries(after)) console.log(`  ${name}: ${value}`);
  console.log(`  inbox: s3://${after.DataBucketName}/inbox/`);
  if (after.HttpApiEndpoint) console.log(`  export MODELDROP_ENDPOINT=${after.HttpApiEndpoint}`);
  if (after.DashboardUrl)
    console.log(`dashboard: ${after.DashboardUrl} (sign in with the API token)`);
  return 0;
}
