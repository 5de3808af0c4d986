/**
 * The Runs table. Every status change is a conditional write: a run that reached a terminal
 * status keeps it, and a duplicate delivery of the same change is a no-op.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { InvalidRequest, NotFound } from "../core/errors.js";
import type { Run } from "../core/run-record.js";
import { type RunStatus, TERMINAL_STATUSES } from "../core/runs.js";

/** A NotFound (404 through the API), named for Step Functions' Catch and the logs. */
export class RunNotFound extends NotFound {
  override readonly name = "RunNotFound";
  constructor(message: string) {
    super("run", message);
  }
}

type Guard =
  /** The run exists and has not ended: status changes and progress. */
  | "running"
  /** The run exists, whatever its status: the report, the notice stamp. */
  | "exists";

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * Every run item carries `listed = "run"` so the byCreated index can list all runs newest
 * first with a Query. One partition for all runs is fine at modeldrop's write rate (runs per
 * minute, not per millisecond); filter-specific indexes serve status and model.
 */
const LISTED = "run";

export interface RunFilter {
  status?: RunStatus | undefined;
  model?: string | undefined;
  dataset?: string | undefined;
  kind?: "train" | "predict" | undefined;
}

export interface RunListPage {
  runs: Run[];
  next?: string;
}

const CursorKey = z.object({
  i: z.enum(["byCreated", "byStatus", "byModel"]),
  k: z.record(z.string(), z.string()),
});

function encodeCursor(index: string, key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ i: index, k: key })).toString("base64url");
}

function decodeCursor(cursor: string, index: string): Record<string, string> {
  let parsed: z.infer<typeof CursorKey>;
  try {
    parsed = CursorKey.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch (error) {
    throw new InvalidRequest("cursor is not one this API gave out", {
      field: "cursor",
      cause: error,
    });
  }
  if (parsed.i !== index)
    throw new InvalidRequest("cursor belongs to a listing with other filters", { field: "cursor" });
  return parsed.k;
}

export class RunsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Records a new run; false when a run with this id exists (a duplicate event). */
  async create(run: Run): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...run, listed: LISTED },
          ConditionExpression: "attribute_not_exists(id)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(id: string): Promise<Run | undefined> {
    const found = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return found.Item as Run | undefined;
  }

  async require(id: string): Promise<Run> {
    const run = await this.get(id);
    if (!run) throw new RunNotFound(`run ${id} does not exist`);
    return run;
  }

  /**
   * Sets top-level fields (and `updatedAt`). Returns false, writing nothing, when the guard does
   * not hold: the run is missing, or it has ended and the guard is "running".
   */
  async update(id: string, fields: Partial<Run>, guard: Guard = "running"): Promise<boolean> {
    const entries = Object.entries({ ...fields, updatedAt: new Date().toISOString() }).filter(
      ([, value]) => value !== undefined,
    );
    const names: Record<string, string> = { "#id": "id" };
    const values: Record<string, unknown> = {};
    const sets = entries.map(([key, value], i) => {
      names[`#f${i}`] = key;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
    let condition = "attribute_exists(#id)";
    if (guard === "running") {
      names["#status"] = "status";
      const terminal = TERMINAL_STATUSES.map((status, i) => {
        values[`:t${i}`] = status;
        return `:t${i}`;
      });
      condition += ` AND NOT (#status IN (${terminal.join(", ")}))`;
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Runs newest first, one page at a time: a Query on the index that fits the filter (status,
   * model, or all runs), with the other filters applied to that page. A page can come back
   * shorter than `limit` while `next` is still given; follow `next` until it is absent.
   */
  async list(filter: RunFilter, limit: number, cursor?: string): Promise<RunListPage> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let index: "byCreated" | "byStatus" | "byModel";
    let keyCondition: string;
    if (filter.status) {
      index = "byStatus";
      keyCondition = "#status = :status";
      names["#status"] = "status";
      values[":status"] = filter.status;
    } else if (filter.model) {
      index = "byModel";
      keyCondition = "modelName = :model";
      values[":model"] = filter.model;
    } else {
      index = "byCreated";
      keyCondition = "listed = :listed";
      values[":listed"] = LISTED;
    }
    const filters: string[] = [];
    if (filter.model && index !== "byModel") {
      filters.push("modelName = :model");
      values[":model"] = filter.model;
    }
    if (filter.dataset) {
      filters.push("dataset.#name = :dataset");
      names["#name"] = "name";
      values[":dataset"] = filter.dataset;
    }
    if (filter.kind) {
      filters.push("#kind = :kind");
      names["#kind"] = "kind";
      values[":kind"] = filter.kind;
    }
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index,
        KeyConditionExpression: keyCondition,
        ...(filters.length > 0 ? { FilterExpression: filters.join(" AND ") } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor, index) } : {}),
      }),
    );
    return {
      runs: (page.Items ?? []) as Run[],
      ...(page.LastEvaluatedKey ? { next: encodeCursor(index, page.LastEvaluatedKey) } : {}),
    };
  }

  /** Takes the run's one notice; false when it was already sent (or is being sent). */
  async claimNotice(id: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: "SET noticeSentAt = :now",
          ConditionExpression: "attribute_exists(id) AND attribute_not_exists(noticeSentAt)",
          ExpressionAttributeValues: { ":now": new Date().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Gives the notice back when publishing failed, so a retry can send it. */
  async releaseNotice(id: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { id },
        UpdateExpression: "REMOVE noticeSentAt",
      }),
    );
  }
}
