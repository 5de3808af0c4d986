/**
 * A registry table of numbered versions per name (the Models and Code tables): per name, a
 * counter item (version 0) that hands out version numbers atomically and carries `listed`, so
 * the sparse byName index lists the names; and one item per version, written once.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { InvalidRequest } from "../core/errors.js";

export interface VersionedTable<V> {
  table: string;
  /** The partition key's attribute: `modelName`, `codeName`. */
  nameKey: string;
  /** The counter items' `listed` value (the byName index's partition). */
  listed: string;
  /** What the table holds, for messages: "model", "code". */
  noun: string;
  parse(item: Record<string, unknown>): V;
}

export class VersionedItems<V> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly spec: VersionedTable<V>,
  ) {}

  /** Allocates the next version number of a name (1, 2, …), safe under concurrency. */
  async nextVersion(name: string): Promise<number> {
    const answer = await this.db.send(
      new UpdateCommand({
        TableName: this.spec.table,
        Key: { [this.spec.nameKey]: name, version: 0 },
        UpdateExpression: "ADD latest :one SET listed = :listed",
        ExpressionAttributeValues: { ":one": 1, ":listed": this.spec.listed },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const latest = answer.Attributes?.latest;
    if (typeof latest !== "number")
      throw new Error(`no version counter for ${this.spec.noun} ${name}`);
    return latest;
  }

  /** Writes a new version; one that exists is never overwritten (ConditionalCheckFailed). */
  async putNew(item: Record<string, unknown>): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.spec.table,
        Item: item,
        ConditionExpression: "attribute_not_exists(#version)",
        ExpressionAttributeNames: { "#version": "version" },
      }),
    );
  }

  async get(name: string, version: number): Promise<V | undefined> {
    if (version < 1) return undefined;
    const answer = await this.db.send(
      new GetCommand({
        TableName: this.spec.table,
        Key: { [this.spec.nameKey]: name, version },
        ConsistentRead: true,
      }),
    );
    return answer.Item ? this.spec.parse(answer.Item) : undefined;
  }

  /** The Query of a name's versions (not its counter, version 0), newest first. */
  private newestFirst(name: string) {
    return {
      TableName: this.spec.table,
      KeyConditionExpression: "#name = :name AND #version > :zero",
      ExpressionAttributeNames: { "#name": this.spec.nameKey, "#version": "version" },
      ExpressionAttributeValues: { ":name": name, ":zero": 0 },
      ScanIndexForward: false,
    };
  }

  /** The name's newest version, or undefined when the name was never registered. */
  async newest(name: string): Promise<V | undefined> {
    const page = await this.db.send(new QueryCommand({ ...this.newestFirst(name), Limit: 1 }));
    const item = page.Items?.[0];
    return item ? this.spec.parse(item) : undefined;
  }

  /** A name's versions, newest first (empty when the name was never registered). */
  async versions(name: string): Promise<V[]> {
    const versions: V[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          ...this.newestFirst(name),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      versions.push(...(page.Items ?? []).map((item) => this.spec.parse(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return versions;
  }

  /** Names in name order with their newest version number, a page at a time. */
  async names(
    limit: number,
    cursor?: string,
  ): Promise<{ names: { name: string; latestVersion: number }[]; next?: string }> {
    const start = cursor ? this.decodeCursor(cursor) : undefined;
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.spec.table,
        IndexName: "byName",
        KeyConditionExpression: "listed = :listed",
        ExpressionAttributeValues: { ":listed": this.spec.listed },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const Counter = z.object({ [this.spec.nameKey]: z.string(), latest: z.number().int() });
    const names = (page.Items ?? []).map((item) => {
      const counter = Counter.safeParse(item);
      if (!counter.success)
        throw new Error(
          `the version counter of ${this.spec.noun} ${String(item[this.spec.nameKey])} is not as written: ${counter.error.issues[0]?.message}`,
        );
      return {
        name: String(counter.data[this.spec.nameKey]),
        latestVersion: Number(counter.data.latest),
      };
    });
    const last = page.LastEvaluatedKey;
    return {
      names,
      ...(last ? { next: Buffer.from(String(last[this.spec.nameKey])).toString("base64url") } : {}),
    };
  }

  private decodeCursor(cursor: string): Record<string, unknown> {
    const name = Buffer.from(cursor, "base64url").toString("utf8");
    if (!/^[a-zA-Z0-9-]{1,63}$/.test(name))
      throw new InvalidRequest("cursor is not one this API gave out", { field: "cursor" });
    return { [this.spec.nameKey]: name, version: 0, listed: this.spec.listed };
  }
}
