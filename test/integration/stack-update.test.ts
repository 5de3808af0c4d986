// A new version of the packaged stack over an existing state directory, as `modeldrop up`
// does after an upgrade: what the template adds is created, and nothing stored is lost.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import {
  GetBucketCorsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { templatePath } from "../../local/stack.js";
import { packageFixtureStack } from "./fixture-stack.js";
import { startTestCloud } from "./helpers.js";

const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-update-"));
const stack = packageFixtureStack();
const eventsFile = join(stateDir, "events.jsonl");

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(stack.dir, { recursive: true, force: true });
});

function start() {
  return startTestCloud({
    stateDir,
    stack: { dir: stack.dir, stackName: "fixture", parameters: { EventsFile: eventsFile } },
  });
}

function deploymentBucket(cloud: Awaited<ReturnType<typeof start>>["cloud"]): string {
  const bucket = cloud.stack?.resources.find((r) => r.logicalId === "ServerlessDeploymentBucket");
  if (!bucket) throw new Error("the fixture stack has no deployment bucket");
  return bucket.physicalId;
}

/** The fixture template with a status index added to its runs table. */
function addStatusIndex(): void {
  const path = templatePath(stack.dir);
  const template = JSON.parse(readFileSync(path, "utf8")) as {
    Resources: { RunsTable: { Properties: Record<string, unknown[]> } };
  };
  const table = template.Resources.RunsTable.Properties;
  table.AttributeDefinitions?.push({ AttributeName: "status", AttributeType: "S" });
  table.GlobalSecondaryIndexes = [
    {
      IndexName: "byStatus",
      KeySchema: [{ AttributeName: "status", KeyType: "HASH" }],
      Projection: { ProjectionType: "ALL" },
    },
  ];
  writeFileSync(path, JSON.stringify(template));
}

/** The fixture template with the data bucket's CorsConfiguration set, or removed. */
function setDataBucketCors(configuration: Record<string, unknown> | undefined): void {
  const path = templatePath(stack.dir);
  const template = JSON.parse(readFileSync(path, "utf8")) as {
    Resources: { DataBucket: { Properties: Record<string, unknown> } };
  };
  const bucket = template.Resources.DataBucket.Properties;
  if (configuration) bucket.CorsConfiguration = configuration;
  else delete bucket.CorsConfiguration;
  writeFileSync(path, JSON.stringify(template));
}

/** The data bucket's CORS rules as GetBucketCors answers them, or the error it answers. */
async function dataBucketCors(started: Awaited<ReturnType<typeof start>>): Promise<unknown> {
  const client = new S3Client({ ...started.config, forcePathStyle: true });
  const bucket = started.cloud.stack?.outputs.DataBucketName ?? "";
  return client
    .send(new GetBucketCorsCommand({ Bucket: bucket }))
    .then(
      (answer) => answer.CORSRules,
      (error: unknown) => error,
    )
    .finally(() => client.destroy());
}

describe("a new version of the stack over existing state", () => {
  it("adds a table's new index keeping its items, and finds the generated bucket again", async () => {
    const first = await start();
    const firstBucket = deploymentBucket(first.cloud);
    const db = new DynamoDBClient(first.config);
    for (const id of ["r1", "r2", "r3"])
      await db.send(
        new PutItemCommand({
          TableName: "fixture-runs",
          Item: { id: { S: id }, status: { S: id === "r2" ? "FAILED" : "SUCCEEDED" } },
        }),
      );
    await new S3Client({ ...first.config, forcePathStyle: true }).send(
      new PutObjectCommand({ Bucket: firstBucket, Key: "serverless/state.json", Body: "{}" }),
    );
    await first.cleanup();

    addStatusIndex();
    const second = await start();
    const again = new DynamoDBClient(second.config);
    const table = await again.send(new DescribeTableCommand({ TableName: "fixture-runs" }));
    const failed = await again.send(
      new QueryCommand({
        TableName: "fixture-runs",
        IndexName: "byStatus",
        KeyConditionExpression: "#status = :status",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":status": { S: "FAILED" } },
      }),
    );
    const kept = await again.send(
      new GetItemCommand({ TableName: "fixture-runs", Key: { id: { S: "r3" } } }),
    );
    const object = await new S3Client({ ...second.config, forcePathStyle: true }).send(
      new GetObjectCommand({
        Bucket: deploymentBucket(second.cloud),
        Key: "serverless/state.json",
      }),
    );
    const body = await object.Body?.transformToString();
    await second.cleanup();

    expect(table.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([
      "byStatus",
    ]);
    expect(failed.Items?.map((item) => item.id?.S)).toEqual(["r2"]);
    expect(kept.Item?.status?.S).toBe("SUCCEEDED");
    expect(deploymentBucket(second.cloud)).toBe(firstBucket);
    expect(body).toBe("{}");
    expect(readdirSync(stateDir).filter((name) => name.startsWith("dynamodb-rebuilding"))).toEqual(
      [],
    );
    expect(existsSync(join(stateDir, "dynamodb"))).toBe(true);
  });

  it("gives the data bucket the template's CorsConfiguration, and a version without it none", async () => {
    setDataBucketCors({
      CorsRules: [
        {
          Id: "dashboard",
          AllowedOrigins: [{ "Fn::GetAtt": ["HttpApi", "ApiEndpoint"] }],
          AllowedMethods: ["GET", "POST"],
          ExposedHeaders: ["x-amz-version-id", "ETag"],
          MaxAge: 600,
        },
      ],
    });
    const first = await start();
    const dashboard = first.cloud.apiEndpoint;
    const rules = await dataBucketCors(first);
    await first.cleanup();

    setDataBucketCors(undefined);
    const second = await start();
    const removed = await dataBucketCors(second);
    await second.cleanup();

    expect(rules).toEqual([
      {
        ID: "dashboard",
        AllowedOrigins: [dashboard],
        AllowedMethods: ["GET", "POST"],
        ExposeHeaders: ["x-amz-version-id", "ETag"],
        MaxAgeSeconds: 600,
      },
    ]);
    expect(removed).toMatchObject({ name: "NoSuchCORSConfiguration" });
  });
});
