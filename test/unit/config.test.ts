import { describe, expect, it } from "vitest";
import { parseConfig } from "../../aws/config.js";

const COMPLETE = {
  AWS_REGION: "us-east-1",
  DATA_BUCKET: "modeldrop-data",
  RUNS_TABLE: "modeldrop-runs",
  MODELS_TABLE: "modeldrop-models",
  CODE_TABLE: "modeldrop-code",
  ENDPOINTS_TABLE: "modeldrop-endpoints",
  NOTICE_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:modeldrop-notices",
  PIPELINE_ARN: "arn:aws:states:us-east-1:123456789012:stateMachine:training",
  PREDICT_ARN: "arn:aws:states:us-east-1:123456789012:stateMachine:predict",
  ENDPOINT_ROLE_ARN: "arn:aws:iam::123456789012:role/modeldrop-endpoints",
  CODE_SHA256: "c0ffee".padEnd(64, "0"),
  SLACK_WEBHOOK_PARAMETER: "/modeldrop/slack-webhook",
  API_TOKEN_PARAMETER: "/modeldrop/api-token",
  PROCESSING_INSTANCE_TYPE: "ml.m5.xlarge",
  TRAINING_INSTANCE_TYPE: "ml.m5.xlarge",
  IMAGE_TRAINING_INSTANCE_TYPE: "ml.g4dn.xlarge",
  TRANSFORM_INSTANCE_TYPE: "ml.m5.large",
  TRAINING_PARALLEL_JOBS: "3",
};

describe("the function configuration", () => {
  it("gives the workflows their settings from the environment", () => {
    const config = parseConfig(COMPLETE);

    expect(config.api).toEqual({
      region: "us-east-1",
      bucket: "modeldrop-data",
      codeSha256: COMPLETE.CODE_SHA256,
      instanceDefaults: {
        processing: "ml.m5.xlarge",
        training: "ml.m5.xlarge",
        trainingImages: "ml.g4dn.xlarge",
        transform: "ml.m5.large",
      },
      parallelJobs: 3,
    });
    expect(config.parameters.apiToken).toBe("/modeldrop/api-token");
    expect(config.tables.endpoints).toBe("modeldrop-endpoints");
    expect(config.endpointRoleArn).toBe("arn:aws:iam::123456789012:role/modeldrop-endpoints");
  });

  it("fails naming every variable that is missing or malformed", () => {
    const { RUNS_TABLE: _, ...missing } = COMPLETE;

    expect(() => parseConfig({ ...missing, TRAINING_INSTANCE_TYPE: "m5.xlarge" })).toThrow(
      "function configuration is incomplete: RUNS_TABLE: not set; TRAINING_INSTANCE_TYPE: must be a SageMaker instance type",
    );
  });
});
