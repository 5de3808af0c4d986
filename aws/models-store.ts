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
import { z } from "zod";
import type { ApprovalChange, ModelRegistry } from "../app/ports.js";
import { Conflict, InvalidRequest, parseStored } from "../core/errors.js";
import { type ModelName, ModelVersion } from "../core/registry.js";
import { isConditionFailure } from "./runs-store.js";

/** Counter items carry `listed = "model"`, so the byName index lists model names by Query. */
const LISTED = "model";

function storedVersion(item: Record<string, unknown>): ModelVersion {
  return parseStored(
    ModelVersion,
    item,
    `version ${String(item.version)} of model ${String(item.modelName)} in the Models table`,
  );
}

export class ModelsStore implements ModelRegistry {
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
    const names: ModelName[] = (page.Items ?? []).map((item) => {
      const counter = parseStored(
        Counter,
        item,
        `the version counter of model ${String(item.modelName)} in the Models table`,
      );
      return { name: counter.modelName, latestVersion: counter.latest };
    });
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
    const item = page.Items?.[0];
    return item ? storedVersion(item) : undefined;
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
      versions.push(...(page.Items ?? []).map(storedVersion));
      start = page.LastEvaluatedKey;
    } while (start);
    return versions;
  }

  /**
   * Sets a version's approval with a conditional write on the approval it was read with, so of
   * two reviewers deciding at once one wins and the other gets a conflict.
   */
  async setApproval(current: ModelVersion, change: ApprovalChange): Promise<ModelVersion> {
    const fields: Record<string, string> = {
      approval: change.approval,
      decidedBy: change.decidedBy,
      decidedAt: change.decidedAt,
      ...(change.reason ? { reason: change.reason } : {}),
    };
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { modelName: current.modelName, version: current.version },
          UpdateExpression: `SET ${Object.keys(fields)
            .map((k) => `#${k} = :${k}`)
            .join(", ")}${change.reason ? "" : " REMOVE #reason"}`,
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
    return { ...rest, ...change };
  }
}

/** The per-name counter item (version 0): the newest version number handed out. */
const Counter = z.object({ modelName: z.string(), latest: z.number().int() });

function decodeNameCursor(cursor: string): Record<string, unknown> {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-zA-Z0-9-]{1,63}$/.test(name))
    throw new InvalidRequest("cursor is not one this API gave out", { field: "cursor" });
  return { modelName: name, version: 0, listed: LISTED };
}
