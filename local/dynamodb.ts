// DynamoDB is served by dynalite (LevelDB on disk) on a private port; requests are proxied to
// it unchanged. One gap is filled here: dynalite ignores ReturnValuesOnConditionCheckFailure,
// so on a failed condition we read the item and add it to the error as AWS does.
// Not filled (listed in the README): transactions, TTL expiry, point-in-time recovery.

import { type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { AwsError, isRecord, parseJsonObject, readBody, sendJsonError } from "./http.js";

const require = createRequire(import.meta.url);
type Dynalite = (options: Record<string, unknown>) => Server;
const dynalite = require("dynalite") as Dynalite;

const CONTENT_TYPE = "application/x-amz-json-1.0";

/** The operations dynalite implements; anything else is refused by name rather than as "UnknownError". */
const SERVED = new Set([
  "BatchGetItem",
  "BatchWriteItem",
  "CreateTable",
  "DeleteItem",
  "DeleteTable",
  "DescribeTable",
  "DescribeTimeToLive",
  "GetItem",
  "ListTables",
  "ListTagsOfResource",
  "PutItem",
  "Query",
  "Scan",
  "TagResource",
  "UntagResource",
  "UpdateItem",
  "UpdateTable",
]);

export class DynamoDbService {
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly stateDir: string) {}

  async start(): Promise<void> {
    const server = dynalite({
      path: join(this.stateDir, "dynamodb"),
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.slice(target.indexOf(".") + 1);
    if (!SERVED.has(operation))
      return sendJsonError(
        res,
        new AwsError(
          "UnknownOperationException",
          `the local cloud's DynamoDB (dynalite) does not support ${operation || "this request"}; local/README.md lists what it serves`,
        ),
      );
    const answer = await this.forward(target, body);
    if (
      answer.status === 400 &&
      answer.type.endsWith("ConditionalCheckFailedException") &&
      ["PutItem", "UpdateItem", "DeleteItem"].includes(operation)
    ) {
      const filled = await this.withOldItem(body, answer.body);
      if (filled) return send(res, 400, filled);
    }
    send(res, answer.status, answer.body);
  }

  /** In-process call, used to create the stack's tables. */
  async call(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.forward(
      `DynamoDB_20120810.${operation}`,
      Buffer.from(JSON.stringify(input)),
    );
    const parsed = parseJsonObject(answer.body);
    if (answer.status !== 200)
      throw new AwsError(
        answer.type.split("#").pop() ?? "DynamoDBError",
        String(parsed.message ?? parsed.Message ?? ""),
        answer.status,
      );
    return parsed;
  }

  private async withOldItem(requestBody: Buffer, errorBody: Buffer): Promise<Buffer | undefined> {
    const input = parseJsonObject(requestBody);
    if (input.ReturnValuesOnConditionCheckFailure !== "ALL_OLD") return undefined;
    const key = await this.operationKey(input);
    if (!key) return undefined;
    const got = await this.call("GetItem", {
      TableName: input.TableName,
      Key: key,
      ConsistentRead: true,
    });
    const error = parseJsonObject(errorBody);
    return Buffer.from(JSON.stringify(got.Item ? { ...error, Item: got.Item } : error));
  }

  /** UpdateItem and DeleteItem name the key; PutItem's key is read from its item by the table's key schema. */
  private async operationKey(
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    if (isRecord(input.Key)) return input.Key;
    if (!isRecord(input.Item)) return undefined;
    const item = input.Item;
    const described = await this.call("DescribeTable", { TableName: input.TableName });
    const table = isRecord(described.Table) ? described.Table : {};
    const schema = Array.isArray(table.KeySchema) ? table.KeySchema : [];
    const key: Record<string, unknown> = {};
    for (const element of schema) {
      if (isRecord(element) && typeof element.AttributeName === "string")
        key[element.AttributeName] = item[element.AttributeName];
    }
    return key;
  }

  private forward(
    target: string,
    body: Buffer,
  ): Promise<{ status: number; type: string; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          method: "POST",
          path: "/",
          headers: {
            "content-type": CONTENT_TYPE,
            "content-length": body.length,
            "x-amz-target": target,
            "x-amz-date": "20250101T000000Z",
            authorization:
              "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=local",
          },
        },
        async (res) => {
          try {
            const answer = await readBody(res);
            const type = answer.length > 0 && res.statusCode !== 200 ? errorType(answer) : "";
            resolve({ status: res.statusCode ?? 500, type, body: answer });
          } catch (error) {
            reject(error);
          }
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  static sendError(res: ServerResponse, error: AwsError): void {
    sendJsonError(res, error, CONTENT_TYPE);
  }
}

function errorType(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as unknown;
    return isRecord(parsed) && typeof parsed.__type === "string" ? parsed.__type : "";
  } catch {
    return "";
  }
}

function send(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { "content-type": CONTENT_TYPE, "content-length": body.length });
  res.end(body);
}
