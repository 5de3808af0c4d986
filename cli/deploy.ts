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
import { S3Client } from "@aws-sdk/client-s3";
import { SSMClient } from "@aws-sdk/client-ssm";
import { CloudFormationClient, ensureSecret, stackOutputs, uploadCode } from "../aws/deployment.js";
import { buildCode } from "./stage-code.js";

const USAGE = `usage: modeldrop deploy [--stage dev] [--region us-east-1] [--email ADDRESS]
                        [--slack-parameter NAME] [--processing-instance TYPE]
                        [--training-instance TYPE] [--image-training-instance TYPE]
                        [--transform-instance TYPE] [--dry-run]

Deploys modeldrop to the AWS account of your current credentials (AWS_PROFILE, or the usual
AWS_* variables). --dry-run prints what it would run and store, and touches nothing.`;

/** CLI flag → the serverless.yml `param` it sets. */
const PARAMETERS = {
  email: "noticeEmail",
  "slack-parameter": "slackWebhookParameter",
  "processing-instance": "processingInstanceType",
  "training-instance": "trainingInstanceType",
  "image-training-instance": "imageTrainingInstanceType",
  "transform-instance": "transformInstanceType",
} as const;

export interface DeployPlan {
  stackName: string;
  region: string;
  /** argv after `serverless`. */
  serverlessArgs: string[];
  codeSha256: string;
}

export function deployPlan(
  argv: string[],
  codeSha256: string,
): DeployPlan | { error: string } | "help" {
  const options = Object.fromEntries(
    Object.keys(PARAMETERS).map((flag) => [flag, { type: "string" as const }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...options,
        stage: { type: "string", default: "dev" },
        region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return "help";
  const stage = String(values.stage);
  if (!/^[a-zA-Z0-9-]{1,16}$/.test(stage))
    return { error: `--stage must be 1-16 letters, digits or hyphens, not ${stage}` };
  const region = String(values.region);
  const args = [
    "deploy",
    "--stage",
    stage,
    "--region",
    region,
    "--param",
    `codeSha256=${codeSha256}`,
  ];
  for (const [flag, param] of Object.entries(PARAMETERS)) {
    const value = values[flag];
    if (typeof value === "string" && value !== "") args.push("--param", `${param}=${value}`);
  }
  return { stackName: `modeldrop-${stage}`, region, serverlessArgs: args, codeSha256 };
}

export async function deploy(argv: string[], projectRoot: string): Promise<number> {
  const code = buildCode(projectRoot);
  const plan = deployPlan(argv, code.sha256);
  if (plan === "help") {
    console.log(USAGE);
    return 0;
  }
  if ("error" in plan) {
    console.error(`modeldrop deploy: ${plan.error}\n${USAGE}`);
    return 2;
  }
  const serverless = join(projectRoot, "node_modules", "serverless", "bin", "serverless.js");
  if (argv.includes("--dry-run")) {
    console.log(`code:   ${code.archive} (sha256 ${code.sha256})`);
    console.log(`deploy: serverless ${plan.serverlessArgs.join(" ")}`);
    console.log(`store:  s3://<DataBucketName of ${plan.stackName}>/code/${code.sha256}/`);
    return 0;
  }
  const cloudFormation = new CloudFormationClient({ region: plan.region });
  const s3 = new S3Client({ region: plan.region });
  const before = await stackOutputs(cloudFormation, plan.stackName);
  if (before?.DataBucketName) await uploadCode(s3, before.DataBucketName, code);
  const result = spawnSync(process.execPath, [serverless, ...plan.serverlessArgs], {
    cwd: projectRoot,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error(`modeldrop deploy: serverless deploy ended with code ${result.status}`);
    return 1;
  }
  const after = await stackOutputs(cloudFormation, plan.stackName);
  if (!after?.DataBucketName) {
    console.error(`modeldrop deploy: ${plan.stackName} has no DataBucketName output`);
    return 1;
  }
  await uploadCode(s3, after.DataBucketName, code);
  const tokenParameter = after.ApiTokenParameterName ?? "";
  const created = await ensureSecret(new SSMClient({ region: plan.region }), tokenParameter, () =>
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
  return 0;
}
