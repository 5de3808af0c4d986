import { describe, expect, it } from "vitest";
import { deployPlan } from "../../cli/deploy.js";

const SHA = "a".repeat(64);

describe("modeldrop deploy", () => {
  it("passes the code hash and every chosen parameter to serverless deploy", () => {
    const plan = deployPlan(
      [
        "--stage",
        "prod",
        "--region",
        "eu-west-1",
        "--email",
        "ml@example.com",
        "--training-instance",
        "ml.m5.2xlarge",
      ],
      SHA,
    );

    expect(plan).toEqual({
      stackName: "modeldrop-prod",
      region: "eu-west-1",
      codeSha256: SHA,
      serverlessArgs: [
        "deploy",
        "--stage",
        "prod",
        "--region",
        "eu-west-1",
        "--param",
        `codeSha256=${SHA}`,
        "--param",
        "noticeEmail=ml@example.com",
        "--param",
        "trainingInstanceType=ml.m5.2xlarge",
      ],
    });
  });

  it("refuses a stage name CloudFormation and the bucket name cannot hold", () => {
    expect(deployPlan(["--stage", "my stage!"], SHA)).toEqual({
      error: "--stage must be 1-16 letters, digits or hyphens, not my stage!",
    });
  });

  it("names an unknown flag instead of ignoring it", () => {
    const plan = deployPlan(["--emial", "x@example.com"], SHA);

    expect(plan).toMatchObject({ error: expect.stringContaining("--emial") });
  });
});
