/**
 * The model registry (Models table): per model name, a counter item (version 0) that hands out
 * version numbers atomically, and one item per version.
 */
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { Conflict, InvalidRequest, NotFound } from "../core/errors.js";
import {
  type Approval,
  type Decision,
  decideApproval,
  type ModelSchema,
} from "../core/registry.js";
import { isConditionFailure } from "./runs-store.js";

export type { Approval };

/** Counter items carry `listed = "model"`, so the byName index lists model names by Query. */
const LISTED = "model";

export interface ModelVersion {
  modelName: string;
  version: number;
  artifact: string;
  sageMakerModel: string;
  runId: string;
  metrics: Record<string, number>;
  approval: Approval;
  /** Who set the approval and when ("quality-gate" when the run approved it). */
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
  createdAt: string;
  /** What the version takes and predicts (from preprocess's profile.json). */
  schema?: ModelSchema;
  /** Set when the schema differs from the version before it, which kept this one Pending. */
  schemaChange?: string;
}

export interface ModelName {
  name: string;
  latestVersion: number;
}

export class ModelsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Allocates the next version number of a model name (1, 2, …), safe under concurrency. */
  async nextVersion(modelName: string): Promise<number> {
    const answer = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { modelName, version: 0 },
        UpdateExpression: "ADD latest :one SET listed = :listed",
        ExpressionAttributeValues: { ":one": 1, ":listed": LISTED },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const latest = answer.Attributes?.latest;
    if (typeof latest !== "number") throw new Error(`no version counter for model ${modelName}`);
    return latest;
  }

  async put(version: ModelVersion): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: version,
        ConditionExpression: "attribute_not_exists(#version)",
        ExpressionAttributeNames: { "#version": "version" },
      }),
    );
  }

  /** Model names in name order, a page at a time. */
  async names(limit: number, cursor?: string): Promise<{ names: ModelName[]; next?: string }> {
    const start = cursor ? decodeNameCursor(cursor) : undefined;
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "byName",
        KeyConditionExpression: "listed = :listed",
        ExpressionAttributeValues: { ":listed": LISTED },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const names = (page.Items ?? []).map((item) => ({
      name: String(item.modelName),
      latestVersion: Number(item.latest),
    }));
    const last = page.LastEvaluatedKey;
    return {
      names,
      ...(last ? { next: Buffer.from(String(last.modelName)).toString("base64url") } : {}),
    };
  }

  /** The model's newest version, or undefined when the name was never registered. */
  async newest(modelName: string): Promise<ModelVersion | undefined> {
    const page = await this.db.send(
      new QueryCommand({ ...this.versionsNewestFirst(modelName), Limit: 1 }),
    );
    return page.Items?.[0] as ModelVersion | undefined;
  }

  /** The Query of a model's versions (not its counter, version 0), newest first. */
  private versionsNewestFirst(modelName: string) {
    return {
      TableName: this.table,
      KeyConditionExpression: "modelName = :name AND #version > :zero",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":name": modelName, ":zero": 0 },
      ScanIndexForward: false,
    };
  }

  /** A model's versions, newest first (empty when the name was never registered). */
  async versions(modelName: string): Promise<ModelVersion[]> {
    const versions: ModelVersion[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          ...this.versionsNewestFirst(modelName),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      versions.push(...((page.Items ?? []) as ModelVersion[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return versions;
  }

  /**
   * Approves or rejects a version with a conditional write on the approval it was read with,
   * so of two reviewers deciding at once one wins and the other gets a conflict.
   */
  async decide(
    modelName: string,
    version: number,
    decision: Decision,
    by: string,
    at: Date,
    reason?: string,
  ): Promise<ModelVersion> {
    const current = (await this.versions(modelName)).find((v) => v.version === version);
    if (!current)
      throw new NotFound("model-version", `model ${modelName} has no version ${version}`);
    const approval = decideApproval(current.approval, decision);
    const fields: Partial<ModelVersion> = {
      approval,
      decidedBy: by,
      decidedAt: at.toISOString(),
      ...(reason ? { reason } : {}),
    };
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { modelName, version },
          UpdateExpression: `SET ${Object.keys(fields)
            .map((k) => `#${k} = :${k}`)
            .join(", ")}${reason ? "" : " REMOVE #reason"}`,
          ConditionExpression: "#approval = :was",
          ExpressionAttributeNames: {
            ...Object.fromEntries(Object.keys(fields).map((k) => [`#${k}`, k])),
            "#approval": "approval",
            "#reason": "reason",
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [`:${k}`, v])),
            ":was": current.approval,
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new Conflict(
          "changed-meanwhile",
          "the version's approval changed meanwhile; read it again",
        );
      throw error;
    }
    const { reason: _old, ...rest } = current;
    return { ...rest, ...fields };
  }
}

function decodeNameCursor(cursor: string): Record<string, unknown> {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-zA-Z0-9-]{1,63}$/.test(name))
    throw new InvalidRequest("cursor is not one this API gave out", { field: "cursor" });
  return { modelName: name, version: 0, listed: LISTED };
}
