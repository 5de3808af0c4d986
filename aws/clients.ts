/**
 * The one place AWS SDK clients are made: once per execution environment, on first use. With
 * AWS_ENDPOINT_URL set (the local cloud), every client goes there and S3 uses path-style URLs.
 */
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SageMakerClient } from "@aws-sdk/client-sagemaker";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

export const s3 = /* @__PURE__ */ once(
  () => new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }),
);
export const dynamo = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
export const sfn = /* @__PURE__ */ once(() => new SFNClient({}));
export const eventBridge = /* @__PURE__ */ once(() => new EventBridgeClient({}));
export const sns = /* @__PURE__ */ once(() => new SNSClient({}));
export const ssm = /* @__PURE__ */ once(() => new SSMClient({}));
export const logs = /* @__PURE__ */ once(() => new CloudWatchLogsClient({}));
export const sagemaker = /* @__PURE__ */ once(() => new SageMakerClient({}));
export const sagemakerRuntime = /* @__PURE__ */ once(() => new SageMakerRuntimeClient({}));
