/**
 * What `modeldrop deploy` asks of AWS beyond `serverless deploy`: the deployed stack's outputs,
 * the ml/ code archive stored content-addressed at `code/<sha256>/` in the data bucket, and the
 * API token as a SecureString. The local cloud's set-up stores the code and the token the same
 * way, through the same `deployment`, pointed at the local endpoint.
 */

import { readFileSync } from "node:fs";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";

export interface StagedCode {
  sha256: string;
  /** Local paths of the two files SageMaker jobs read. */
  archive: string;
  bootstrap: string;
}

/** The stack's outputs, or undefined when the stack does not exist yet (a first deploy). */
export async function stackOutputs(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string> | undefined> {
  try {
    const found = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = found.Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(outputs.map((o) => [o.OutputKey ?? "", o.OutputValue ?? ""]));
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) return undefined;
    throw error;
  }
}

function codeKeys(sha256: string): { archive: string; bootstrap: string } {
  return {
    archive: `code/${sha256}/sourcedir.tar.gz`,
    bootstrap: `code/${sha256}/bootstrap.py`,
  };
}

/**
 * Stores the code under its hash. Content-addressed, so an archive already there is the same
 * bytes and is left alone (a versioned bucket would otherwise keep a copy per deploy).
 */
export async function uploadCode(s3: S3Client, bucket: string, code: StagedCode): Promise<void> {
  const keys = codeKeys(code.sha256);
  const files = [
    { key: keys.archive, path: code.archive, type: "application/gzip" },
    { key: keys.bootstrap, path: code.bootstrap, type: "text/x-python" },
  ];
  for (const file of files) {
    if (await exists(s3, bucket, file.key)) continue;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: file.key,
        Body: readFileSync(file.path),
        ContentType: file.type,
      }),
    );
  }
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof Error && (error.name === "NotFound" || error.name === "NoSuchKey"))
      return false;
    throw error;
  }
}

/**
 * Stores the API token as a SecureString unless one is stored already (a redeploy keeps the
 * token clients hold). True when it stored a new one.
 */
export async function ensureSecret(
  ssm: SSMClient,
  name: string,
  value: () => string,
): Promise<boolean> {
  try {
    await ssm.send(new GetParameterCommand({ Name: name }));
    return false;
  } catch (error) {
    if (!(error instanceof Error && error.name === "ParameterNotFound")) throw error;
  }
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: value(), Type: "SecureString", Overwrite: false }),
  );
  return true;
}

/** Stores a SecureString, replacing what was there. */
export async function putSecret(ssm: SSMClient, name: string, value: string): Promise<void> {
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: "SecureString", Overwrite: true }),
  );
}

/**
 * Where a deployment's calls go: AWS in `region` with the current credentials (AWS_PROFILE or
 * the usual AWS_* variables), or, with `endpoint`, a local cloud, which takes any credentials.
 * Not the Lambda functions' clients (aws/clients.ts): those take the region and endpoint from
 * their environment, a deployment names them.
 */
export interface DeploymentTarget {
  region: string;
  endpoint?: string;
}

/** The deployment calls above, bound to clients for one target. */
export interface Deployment {
  stackOutputs(stackName: string): Promise<Record<string, string> | undefined>;
  uploadCode(bucket: string, code: StagedCode): Promise<void>;
  ensureSecret(name: string, value: () => string): Promise<boolean>;
  putSecret(name: string, value: string): Promise<void>;
}

export function deployment(target: DeploymentTarget): Deployment {
  const config = target.endpoint
    ? {
        region: target.region,
        endpoint: target.endpoint,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }
    : { region: target.region };
  const cloudFormation = new CloudFormationClient(config);
  // The local cloud serves every bucket on one host, so S3 is asked path-style there.
  const s3 = new S3Client({ ...config, forcePathStyle: Boolean(target.endpoint) });
  const ssm = new SSMClient(config);
  return {
    stackOutputs: (stackName) => stackOutputs(cloudFormation, stackName),
    uploadCode: (bucket, code) => uploadCode(s3, bucket, code),
    ensureSecret: (name, value) => ensureSecret(ssm, name, value),
    putSecret: (name, value) => putSecret(ssm, name, value),
  };
}
