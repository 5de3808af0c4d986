/**
 * The Endpoints table: one item per generation of a model's endpoint of each mode, keyed by
 * `modelName` and `slot` = `<mode>#<generation, 6 digits>`, so the newest generation of a mode
 * is the last slot with that prefix. Status changes are conditional writes on the status read.
 */
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { EndpointKey, EndpointRepository } from "../app/ports.js";
import { type EndpointMode, EndpointRecord, type EndpointStatus } from "../core/endpoints.js";
import { parseStored } from "../core/errors.js";
import { isConditionFailure } from "./runs-store.js";

/** The sort key of one generation: zero-padded so slots sort as the generations do. */
export function endpointSlot(mode: EndpointMode, generation: number): string {
  return `${mode}#${String(generation).padStart(6, "0")}`;
}

/** Fields that name the item (its key); `update` leaves them as they are. */
const KEY_FIELDS = new Set<string>(["modelName", "mode", "generation"]);

/** A stored item as an endpoint record (the slot dropped), or StoredDataInvalid naming it. */
function storedEndpoint(item: Record<string, unknown>): EndpointRecord {
  const { slot: _slot, ...record } = item;
  return parseStored(
    EndpointRecord,
    record,
    `endpoint ${String(item.mode)} generation ${String(item.generation)} of model ${String(item.modelName)} in the Endpoints table`,
  );
}

export class EndpointsStore implements EndpointRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(key: EndpointKey): Record<string, string> {
    return { modelName: key.modelName, slot: endpointSlot(key.mode, key.generation) };
  }

  async current(modelName: string, mode: EndpointMode): Promise<EndpointRecord | undefined> {
    const found = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "modelName = :model AND begins_with(slot, :mode)",
        ExpressionAttributeValues: { ":model": modelName, ":mode": `${mode}#` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = found.Items?.[0];
    return item ? storedEndpoint(item) : undefined;
  }

  async create(record: EndpointRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...record, slot: endpointSlot(record.mode, record.generation) },
          ConditionExpression: "attribute_not_exists(modelName)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * SETs each field given a value and REMOVEs each one given as `undefined` (how a workflow
   * clears `updating` or `failureReason`), when the item exists and, with `from`, its status is
   * one of those. The record as written, or undefined when the condition did not hold.
   */
  async update(
    key: EndpointKey,
    fields: Partial<EndpointRecord>,
    from?: readonly EndpointStatus[],
  ): Promise<EndpointRecord | undefined> {
    if (from?.length === 0) return undefined;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    // Object.entries keeps a field given as `undefined`: that is a REMOVE.
    const entries = Object.entries(fields).filter(([field]) => !KEY_FIELDS.has(field));
    entries.forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) removes.push(`#f${i}`);
      else {
        values[`:v${i}`] = value;
        sets.push(`#f${i} = :v${i}`);
      }
    });
    // An update with nothing to change still checks its condition and answers the record.
    const unchanged = sets.length === 0 && removes.length === 0;
    if (unchanged) sets.push("#status = #status");
    if (unchanged || from) names["#status"] = "status";
    let condition = "attribute_exists(modelName)";
    if (from) {
      const allowed = from.map((status, i) => {
        values[`:s${i}`] = status;
        return `:s${i}`;
      });
      condition += ` AND #status IN (${allowed.join(", ")})`;
    }
    const expression = [
      sets.length > 0 ? `SET ${sets.join(", ")}` : "",
      removes.length > 0 ? `REMOVE ${removes.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    try {
      const written = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: "ALL_NEW",
        }),
      );
      return written.Attributes ? storedEndpoint(written.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Atomic adds, so invocations at the same time all count; nothing when the record is gone. */
  async recordInvocation(
    key: EndpointKey,
    use: { at: string; seconds: number; bytes: number },
  ): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression:
            "ADD invocations :one, servedSeconds :seconds, bytesProcessed :bytes SET lastInvokedAt = :at",
          ConditionExpression: "attribute_exists(modelName)",
          ExpressionAttributeValues: {
            ":one": 1,
            ":seconds": use.seconds,
            ":bytes": use.bytes,
            ":at": use.at,
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Every generation of every endpoint, newest first (a Scan: the table holds few items). */
  async list(): Promise<EndpointRecord[]> {
    const records: EndpointRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      records.push(...(page.Items ?? []).map(storedEndpoint));
      start = page.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
