// The SageMaker API model from botocore (installed by `npm run setup`) drives request validation.
import { describe, expect, it } from "vitest";
import { loadServiceModel, validateRequest } from "../../local/aws-model.js";

const model = loadServiceModel("sagemaker");

const trainingJob = {
  TrainingJobName: "churn-train-1",
  RoleArn: "arn:aws:iam::000000000000:role/modeldrop-sagemaker",
  AlgorithmSpecification: { TrainingImage: "image", TrainingInputMode: "File" },
  OutputDataConfig: { S3OutputPath: "s3://bucket/jobs" },
  ResourceConfig: { InstanceType: "ml.m5.large", InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 600 },
};

describe("requests validated against botocore's SageMaker model", () => {
  it("accepts a well-formed CreateTrainingJob", () => {
    expect(validateRequest(model, "CreateTrainingJob", trainingJob)).toBeUndefined();
  });

  it("names a missing required member the way AWS does", () => {
    const { RoleArn: _, ...withoutRole } = trainingJob;
    const error = validateRequest(model, "CreateTrainingJob", withoutRole);

    expect(error?.name).toBe("ValidationException");
    expect(error?.message).toContain("1 validation error detected");
    expect(error?.message).toContain("roleArn");
  });

  it("checks patterns, enums and numeric ranges, and counts every problem", () => {
    const error = validateRequest(model, "CreateTrainingJob", {
      ...trainingJob,
      TrainingJobName: "bad_name!",
      AlgorithmSpecification: { TrainingImage: "image", TrainingInputMode: "Streaming" },
      StoppingCondition: { MaxRuntimeInSeconds: 0 },
    });

    expect(error?.message).toContain("3 validation errors detected");
    expect(error?.message).toContain("Member must satisfy regular expression pattern");
    expect(error?.message).toContain("Member must satisfy enum value set");
    expect(error?.message).toContain("Member must have value greater than or equal to 1");
  });

  it("refuses a hyperparameter value longer than the API allows", () => {
    const error = validateRequest(model, "CreateTrainingJob", {
      ...trainingJob,
      HyperParameters: { long: "x".repeat(2501) },
    });

    expect(error?.name).toBe("ValidationException");
    expect(error?.message).toContain("hyperParameters");
  });

  it("answers unknown fields and unknown operations with AWS's error names", () => {
    expect(validateRequest(model, "CreateTrainingJob", { ...trainingJob, Extra: 1 })?.name).toBe(
      "SerializationException",
    );
    expect(validateRequest(model, "LaunchRocket", {})?.name).toBe("UnknownOperationException");
  });
});
