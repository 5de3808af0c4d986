// The security promises of the packaged stack, read off the CloudFormation template that
// `serverless package` writes (what would be deployed), beside cfn-lint and checkov.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";

type Json = Record<string, unknown>;
let resources: Record<string, { Type: string; Properties?: Json }>;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Json;
  Principal?: unknown;
}

function statementsOf(policyHolder: Json | undefined): Statement[] {
  const policies = (policyHolder?.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

beforeAll(() => {
  const template = JSON.parse(
    readFileSync(
      join(inject("packagedStack"), "cloudformation-template-update-stack.json"),
      "utf8",
    ),
  ) as { Resources: typeof resources };
  resources = template.Resources;
});

describe("the packaged stack", () => {
  it("grants no wildcard actions in any role", () => {
    const roles = Object.entries(resources).filter(([, r]) => r.Type === "AWS::IAM::Role");

    const wildcards = roles.flatMap(([name, role]) =>
      statementsOf(role.Properties)
        .flatMap(actions)
        .filter((action) => action === "*" || action.endsWith(":*"))
        .map((action) => `${name}: ${action}`),
    );

    expect(roles.length).toBeGreaterThan(20);
    expect(wildcards).toEqual([]);
  });

  it("lets only the pipeline pass the SageMaker role, and only to SageMaker", () => {
    const passing = Object.entries(resources).flatMap(([name, r]) =>
      r.Type === "AWS::IAM::Role"
        ? statementsOf(r.Properties)
            .filter((s) => actions(s).includes("iam:PassRole"))
            .map((s) => ({ name, s }))
        : [],
    );

    expect(passing.map((p) => p.name)).toEqual(["PipelineRole"]);
    expect(passing[0]?.s.Resource).toEqual({ "Fn::GetAtt": ["SageMakerRole", "Arn"] });
    expect(passing[0]?.s.Condition).toEqual({
      StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" },
    });
  });

  it("puts every API route but GET /health behind the token authorizer", () => {
    const routes = Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route");

    const open = routes.filter((r) => r.Properties?.AuthorizationType !== "CUSTOM");

    expect(routes.length).toBeGreaterThanOrEqual(14);
    // The dashboard's page and built files hold no data; the page calls the API with the token.
    expect(open.map((r) => r.Properties?.RouteKey).sort()).toEqual([
      "GET /",
      "GET /assets/{file}",
      "GET /health",
    ]);
  });

  it("serves the dashboard from a function that may only write its own logs", () => {
    const role = resources.DashboardLambdaFunction?.Properties?.Role;
    expect(role).toEqual({ "Fn::GetAtt": ["IamRoleLambdaExecution", "Arn"] });
    const granted = statementsOf(resources.IamRoleLambdaExecution?.Properties).flatMap(actions);
    expect(granted.every((action) => action.startsWith("logs:"))).toBe(true);
  });

  it("lets only the dashboard's origin reach the bucket from a browser", () => {
    const cors = resources.DataBucket?.Properties?.CorsConfiguration as {
      CorsRules: { AllowedOrigins: unknown[]; AllowedMethods: string[] }[];
    };
    expect(cors.CorsRules).toHaveLength(1);
    expect(cors.CorsRules[0]?.AllowedOrigins).toEqual([
      { "Fn::GetAtt": ["HttpApi", "ApiEndpoint"] },
    ]);
    expect(cors.CorsRules[0]?.AllowedMethods.sort()).toEqual(["GET", "POST"]);
  });

  it("keeps the data bucket private, encrypted, versioned and TLS-only", () => {
    const bucket = resources.DataBucket?.Properties ?? {};
    const policy = resources.DataBucketPolicy?.Properties?.PolicyDocument as {
      Statement: Statement[];
    };

    expect(bucket.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain("aws:kms");
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
  });
});
