// The security promises of the packaged stack, read off the CloudFormation template that
// `serverless package` writes (what would be deployed), beside cfn-lint and checkov.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ROUTES } from "../../core/api.js";

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

/** A statement's resources as text: the ARN pattern of a Fn::Sub, `Name.Arn` of a Fn::GetAtt. */
function resourcesOf(s: Statement): string[] {
  const list = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
  return list.map((r) => {
    if (typeof r === "string") return r;
    const intrinsic = r as { "Fn::Sub"?: string; "Fn::GetAtt"?: string[]; Ref?: string };
    if (intrinsic["Fn::Sub"]) return intrinsic["Fn::Sub"];
    if (intrinsic["Fn::GetAtt"]) return intrinsic["Fn::GetAtt"].join(".");
    if (intrinsic.Ref) return intrinsic.Ref;
    return JSON.stringify(r);
  });
}

// The ARN patterns as the template's Fn::Subs spell them.
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
const SAGEMAKER = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
const LOGS = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}";
const DEFAULT_BUS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
  "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default";
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
const BUCKET = "${DataBucket.Arn}";
const ENDPOINT_RESOURCES = [
  `${SAGEMAKER}:endpoint/md-ep-*`,
  `${SAGEMAKER}:endpoint-config/md-ep-*`,
  `${SAGEMAKER}:model/md-ep-*`,
];

/** The statements of a function's own role (serverless-iam-roles-per-function), by function key. */
function functionStatements(functionKey: string): Statement[] {
  const logicalId = `${functionKey[0]?.toUpperCase()}${functionKey.slice(1)}`;
  const role = resources[`${logicalId}IamRoleLambdaExecution`];
  if (!role) throw new Error(`function ${functionKey} has no role of its own`);
  // The first statement is the plugin's own: the function's log group.
  return statementsOf(role.Properties).filter(
    (s) => !actions(s).every((a) => a.startsWith("logs:")),
  );
}

/** Every action a function's role grants, each with its resources, sorted (logs left out). */
function grants(functionKey: string): string[] {
  return functionStatements(functionKey)
    .flatMap((s) => actions(s).flatMap((a) => resourcesOf(s).map((r) => `${a} ${r}`)))
    .sort();
}

/** The functions that work on endpoints, with every action they are granted on what. */
const ENDPOINT_FUNCTIONS = [
  "apiCreateEndpoint",
  "apiListEndpoints",
  "apiGetEndpoint",
  "apiPromoteEndpoint",
  "apiDeleteEndpoint",
  "apiInvokeModel",
  "onEndpointChange",
  "onVersionApproved",
  "endpointSweeper",
];

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

  it("lets only the pipeline pass the jobs' role and only the endpoint makers pass the endpoints' role, each only to SageMaker", () => {
    const passing = Object.entries(resources).flatMap(([name, r]) =>
      r.Type === "AWS::IAM::Role"
        ? statementsOf(r.Properties)
            .filter((s) => actions(s).includes("iam:PassRole"))
            .map((s) => ({ name, s }))
        : [],
    );

    expect(Object.fromEntries(passing.map((p) => [p.name, p.s.Resource]))).toEqual({
      PipelineRole: { "Fn::GetAtt": ["SageMakerRole", "Arn"] },
      ApiCreateEndpointIamRoleLambdaExecution: { "Fn::GetAtt": ["EndpointRole", "Arn"] },
      ApiPromoteEndpointIamRoleLambdaExecution: { "Fn::GetAtt": ["EndpointRole", "Arn"] },
      OnVersionApprovedIamRoleLambdaExecution: { "Fn::GetAtt": ["EndpointRole", "Arn"] },
    });
    for (const { s } of passing) {
      expect(actions(s)).toEqual(["iam:PassRole"]);
      expect(s.Condition).toEqual({
        StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" },
      });
    }
  });

  it('grants Resource "*" only for the actions that accept nothing else', () => {
    const roles = Object.entries(resources).filter(([, r]) => r.Type === "AWS::IAM::Role");

    const anywhere = roles.flatMap(([name, role]) =>
      statementsOf(role.Properties)
        .filter((s) => resourcesOf(s).includes("*"))
        .flatMap((s) => actions(s).map((action) => `${name}: ${action}`)),
    );

    expect(anywhere.sort()).toEqual([
      "EndpointRole: cloudwatch:PutMetricData",
      "EndpointRole: ecr:GetAuthorizationToken",
      "SageMakerRole: cloudwatch:PutMetricData",
      "SageMakerRole: ecr:GetAuthorizationToken",
    ]);
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

  it("routes exactly the route table of core/api.ts, behind the authorizer where it says auth", () => {
    const routes = Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route");
    const stack = Object.fromEntries(
      routes.map((r) => [r.Properties?.RouteKey, r.Properties?.AuthorizationType === "CUSTOM"]),
    );

    const table = Object.fromEntries(
      Object.values(ROUTES).map((route) => [`${route.method} ${route.path}`, route.auth]),
    );

    // The dashboard's page and files are served beside the API, not part of its route table.
    expect(stack).toEqual({ ...table, "GET /": false, "GET /assets/{file}": false });
    expect(routes).toHaveLength(Object.keys(table).length + 2);
  });

  it("puts every endpoint route behind the token authorizer, each on its own function", () => {
    const routeKeys = [
      "POST /models/{name}/endpoints",
      "GET /endpoints",
      "GET /models/{name}/endpoints/{mode}",
      "POST /models/{name}/endpoints/{mode}/promote",
      "DELETE /models/{name}/endpoints/{mode}",
      "POST /models/{name}/invoke",
    ];
    const routes = Object.values(resources).filter(
      (r) =>
        r.Type === "AWS::ApiGatewayV2::Route" && routeKeys.includes(String(r.Properties?.RouteKey)),
    );
    const functionOf = (route: (typeof routes)[number]) => {
      const target = JSON.stringify(route.Properties?.Target);
      const integration = Object.keys(resources).find((id) => target.includes(`"${id}"`));
      const uri = resources[integration ?? ""]?.Properties?.IntegrationUri as {
        "Fn::GetAtt": string[];
      };
      return uri["Fn::GetAtt"][0];
    };

    expect(routes).toHaveLength(routeKeys.length);
    for (const route of routes) {
      expect(route.Properties).toMatchObject({
        AuthorizationType: "CUSTOM",
        AuthorizerId: { Ref: "HttpApiAuthorizerApiToken" },
      });
    }
    expect(Object.fromEntries(routes.map((r) => [r.Properties?.RouteKey, functionOf(r)]))).toEqual({
      "POST /models/{name}/endpoints": "ApiCreateEndpointLambdaFunction",
      "GET /endpoints": "ApiListEndpointsLambdaFunction",
      "GET /models/{name}/endpoints/{mode}": "ApiGetEndpointLambdaFunction",
      "POST /models/{name}/endpoints/{mode}/promote": "ApiPromoteEndpointLambdaFunction",
      "DELETE /models/{name}/endpoints/{mode}": "ApiDeleteEndpointLambdaFunction",
      "POST /models/{name}/invoke": "ApiInvokeModelLambdaFunction",
    });
  });

  it("lets the endpoints' role only read model artifacts and serving code, pull its image and write its logs", () => {
    const role = resources.EndpointRole?.Properties ?? {};
    const statements = statementsOf(role);
    const bucketGrants = statements.filter((s) => actions(s).some((a) => a.startsWith("s3:")));

    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "sagemaker.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
    expect(bucketGrants).toHaveLength(1);
    expect(actions(bucketGrants[0] as Statement)).toEqual(["s3:GetObject"]);
    expect(resourcesOf(bucketGrants[0] as Statement)).toEqual([
      `${BUCKET}/runs/*/model/*`,
      `${BUCKET}/runs/*/jobs/*/output/model.tar.gz`,
      `${BUCKET}/code/*`,
    ]);
    expect(statements.flatMap(actions).sort()).toEqual([
      "cloudwatch:PutMetricData",
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetAuthorizationToken",
      "ecr:GetDownloadUrlForLayer",
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "s3:GetObject",
    ]);
    expect(statements.find((s) => actions(s).includes("logs:PutLogEvents"))?.Resource).toEqual({
      "Fn::Sub": `${LOGS}:log-group:/aws/sagemaker/Endpoints/md-ep-*`,
    });
    expect(
      statements.find((s) => actions(s).includes("cloudwatch:PutMetricData"))?.Condition,
    ).toEqual({ StringLike: { "cloudwatch:namespace": "/aws/sagemaker/*" } });
    // Images are pulled from the same repositories the jobs' role may pull from.
    const pulls = (statementList: Statement[]) =>
      statementList.find((s) => actions(s).includes("ecr:BatchGetImage"))?.Resource;
    expect(pulls(statements)).toEqual(pulls(statementsOf(resources.SageMakerRole?.Properties)));
  });

  it("gives every endpoint function only the endpoint calls its workflow makes", () => {
    const sagemakerGrants = (key: string) =>
      grants(key).filter((g) => g.startsWith("sagemaker:") || g.startsWith("iam:"));
    const on = (actionList: string[], resourceList = ENDPOINT_RESOURCES) =>
      actionList.flatMap((a) => resourceList.map((r) => `${a} ${r}`));
    const passRole = "iam:PassRole EndpointRole.Arn";
    const describeVersion = `sagemaker:DescribeModel ${SAGEMAKER}:model/md-*`;

    expect(sagemakerGrants("apiCreateEndpoint")).toEqual(
      [
        passRole,
        describeVersion,
        ...on([
          "sagemaker:AddTags",
          "sagemaker:CreateEndpoint",
          "sagemaker:CreateEndpointConfig",
          "sagemaker:CreateModel",
        ]),
      ].sort(),
    );
    expect(sagemakerGrants("apiPromoteEndpoint")).toEqual(
      [
        passRole,
        describeVersion,
        ...on([
          "sagemaker:AddTags",
          "sagemaker:CreateEndpointConfig",
          "sagemaker:CreateModel",
          "sagemaker:DeleteEndpointConfig",
          "sagemaker:DeleteModel",
          "sagemaker:UpdateEndpoint",
        ]),
      ].sort(),
    );
    const deleting = on([
      "sagemaker:DeleteEndpoint",
      "sagemaker:DeleteEndpointConfig",
      "sagemaker:DeleteModel",
      "sagemaker:DescribeEndpoint",
    ]).sort();
    expect(sagemakerGrants("apiDeleteEndpoint")).toEqual(deleting);
    expect(sagemakerGrants("endpointSweeper")).toEqual(deleting);
    expect(sagemakerGrants("onEndpointChange")).toEqual(
      on(
        ["sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"],
        ENDPOINT_RESOURCES.slice(1),
      ).sort(),
    );
    // Deploy-on-approval makes what a create or a promotion makes, nothing more.
    expect(sagemakerGrants("onVersionApproved")).toEqual(
      [
        ...new Set([
          ...sagemakerGrants("apiCreateEndpoint"),
          ...sagemakerGrants("apiPromoteEndpoint"),
        ]),
      ].sort(),
    );
    expect(sagemakerGrants("apiListEndpoints")).toEqual([]);
    expect(sagemakerGrants("apiGetEndpoint")).toEqual([]);
  });

  it("lets only the register task and the approve route announce approvals, on the default bus, to the deploy-on-approval function", () => {
    const announcing = Object.keys(resources)
      .filter((id) => id.endsWith("IamRoleLambdaExecution") && id !== "IamRoleLambdaExecution")
      .map((id) => id.replace(/IamRoleLambdaExecution$/, ""))
      .map((logicalId) => `${logicalId[0]?.toLowerCase()}${logicalId.slice(1)}`)
      .filter((key) => grants(key).some((g) => g.startsWith("events:")));
    const rule = resources.VersionApprovedRule?.Properties;

    expect(announcing.sort()).toEqual(["apiApproveModel", "registerModel"]);
    for (const key of announcing)
      expect(grants(key).filter((g) => g.startsWith("events:"))).toEqual([
        `events:PutEvents ${DEFAULT_BUS}`,
      ]);
    expect(rule?.EventPattern).toEqual({
      source: ["modeldrop"],
      "detail-type": ["Model Version Approved"],
    });
    expect(rule?.Targets).toEqual([
      expect.objectContaining({
        Arn: { "Fn::GetAtt": ["OnVersionApprovedLambdaFunction", "Arn"] },
        DeadLetterConfig: { Arn: { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] } },
      }),
    ]);
  });

  it("lets the invoke route only call modeldrop's endpoints and count their use", () => {
    expect(grants("apiInvokeModel")).toEqual([
      "dynamodb:Query EndpointsTable.Arn",
      "dynamodb:UpdateItem EndpointsTable.Arn",
      `sagemaker:InvokeEndpoint ${SAGEMAKER}:endpoint/md-ep-*`,
    ]);
  });

  it("lets the endpoint listing and detail routes only read the Endpoints table", () => {
    expect(grants("apiListEndpoints")).toEqual(["dynamodb:Scan EndpointsTable.Arn"]);
    expect(grants("apiGetEndpoint")).toEqual(["dynamodb:Query EndpointsTable.Arn"]);
  });

  it("keeps the endpoint functions off the bucket, the runs and the pipeline", () => {
    const reaches = ENDPOINT_FUNCTIONS.flatMap((key) =>
      grants(key)
        .filter(
          (g) => /^(s3|states|ssm):/.test(g) || g.includes("RunsTable") || g.includes("CodeTable"),
        )
        .map((g) => `${key}: ${g}`),
    );

    expect(reaches).toEqual([]);
  });

  it("lets no function but the endpoint functions call SageMaker hosting", () => {
    const hosting = /^sagemaker:(\w*Endpoint\w*|CreateModel|DeleteModel|DescribeModel|AddTags) /;
    const callers = Object.keys(resources)
      .filter((id) => id.endsWith("IamRoleLambdaExecution") && id !== "IamRoleLambdaExecution")
      .map((id) => id.replace(/IamRoleLambdaExecution$/, ""))
      .map((logicalId) => `${logicalId[0]?.toLowerCase()}${logicalId.slice(1)}`)
      .filter((key) => grants(key).some((g) => hosting.test(g)));

    expect(callers.sort()).toEqual(
      ENDPOINT_FUNCTIONS.filter((f) => !["apiListEndpoints", "apiGetEndpoint"].includes(f)).sort(),
    );
  });

  it("routes SageMaker's endpoint state changes and the five-minute sweep to their functions", () => {
    const rules = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Events::Rule");
    const targetOf = (properties: Json | undefined) =>
      ((properties?.Targets ?? []) as { Arn: { "Fn::GetAtt": string[] } }[]).map(
        (t) => t.Arn["Fn::GetAtt"][0],
      );
    const change = resources.EndpointChangeRule?.Properties;
    const schedules = rules.filter(([, r]) => r.Properties?.ScheduleExpression);

    expect(change?.EventPattern).toEqual({
      source: ["aws.sagemaker"],
      "detail-type": ["SageMaker Endpoint State Change"],
      detail: { EndpointName: [{ prefix: "md-ep-" }] },
    });
    expect(targetOf(change)).toEqual(["OnEndpointChangeLambdaFunction"]);
    expect(change?.Targets).toEqual([
      expect.objectContaining({
        DeadLetterConfig: { Arn: { "Fn::GetAtt": ["DeadLetterQueue", "Arn"] } },
      }),
    ]);
    expect(
      schedules.map(([, r]) => [r.Properties?.ScheduleExpression, targetOf(r.Properties)]),
    ).toEqual([["rate(5 minutes)", ["EndpointSweeperLambdaFunction"]]]);
    expect(resources.EndpointSweeperLambdaFunction?.Properties?.Timeout).toBe(60);
  });

  it("keeps every table encrypted, recoverable and paid per request", () => {
    const tables = Object.entries(resources).filter(([, r]) => r.Type === "AWS::DynamoDB::Table");

    expect(tables.map(([name]) => name).sort()).toEqual([
      "CodeTable",
      "EndpointsTable",
      "ModelsTable",
      "RunsTable",
    ]);
    for (const [, table] of tables)
      expect(table.Properties).toMatchObject({
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    expect(resources.EndpointsTable?.Properties?.KeySchema).toEqual([
      { AttributeName: "modelName", KeyType: "HASH" },
      { AttributeName: "slot", KeyType: "RANGE" },
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
