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
import type { RunFilter, RunGuard, RunListPage, RunRepository } from "../app/ports.js";
import { InvalidRequest, parseStored, RunNotFound } from "../core/errors.js";
import { type NoticeDelivery, Run } from "../core/run-record.js";
import { TERMINAL_STATUSES } from "../core/runs.js";

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * Every run item carries `listed = "run"` so the byCreated index can list all runs newest
 * first with a Query. One partition for all runs is fine at modeldrop's write rate (runs per
 * minute, not per millisecond). The other filters each have an index of their own, keyed by a
 * top-level attribute: `datasetName` copies `dataset.name`, since an index cannot key on a
 * nested one (runs recorded before it existed need it written once to be found by dataset).
 */
const LISTED = "run";

/** Each listing index, by the attribute that is its partition key; all sort on `createdAt`. */
const INDEXES = {
  byDataset: "datasetName",
  byModel: "modelName",
  byStatus: "status",
  byKind: "kind",
  byCreated: "listed",
} as const;
type ListingIndex = keyof typeof INDEXES;

/**
 * The index a listing queries and the filters left for its FilterExpression. The most selective
 * filter keys the Query: dataset and model names pick few runs, a status or kind many.
 */
function listingPlan(filter: RunFilter): {
  index: ListingIndex;
  partition: string;
  rest: [attribute: string, value: string][];
} {
  const wanted: [ListingIndex, string | undefined][] = [
    ["byDataset", filter.dataset],
    ["byModel", filter.model],
    ["byStatus", filter.status],
    ["byKind", filter.kind],
  ];
  const given = wanted.filter((entry): entry is [ListingIndex, string] => entry[1] !== undefined);
  const [first, ...rest] = given;
  if (!first) return { index: "byCreated", partition: LISTED, rest: [] };
  return {
    index: first[0],
    partition: first[1],
    rest: rest.map(([index, value]) => [INDEXES[index], value]),
  };
}

/** Runs a listing may read past before a page is full, per Query, once the first read fell short. */
const MAX_READ = 1000;

const CursorKey = z.object({
  i: z.enum(Object.keys(INDEXES) as [ListingIndex, ...ListingIndex[]]),
  k: z.record(z.string(), z.string()),
});

/** Where a listing resumes after `run`: its key in the index (the table's key, the index's keys). */
function indexKey(run: Run, index: ListingIndex, partition: string): Record<string, string> {
  return { id: run.id, [INDEXES[index]]: partition, createdAt: run.createdAt };
}

function encodeCursor(index: ListingIndex, key: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ i: index, k: key })).toString("base64url");
}

function decodeCursor(
  cursor: string,
  index: ListingIndex,
  partition: string,
): Record<string, string> {
  let parsed: z.infer<typeof CursorKey>;
  try {
    parsed = CursorKey.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch (error) {
    throw new InvalidRequest("cursor is not one this API gave out", {
      field: "cursor",
      cause: error,
    });
  }
  if (parsed.i !== index || parsed.k[INDEXES[index]] !== partition)
    throw new InvalidRequest("cursor belongs to a listing with other filters", { field: "cursor" });
  return parsed.k;
}

/** The item the table stores for a run: the record plus the attributes its indexes key on. */
function storedItem(run: Run): Record<string, unknown> {
  // An index key may not be an empty string: a run without a dataset name is simply not listed by one.
  return { ...run, listed: LISTED, ...(run.dataset.name ? { datasetName: run.dataset.name } : {}) };
}

/** A stored item as a run record (the index attributes dropped), or StoredDataInvalid. */
function storedRun(item: Record<string, unknown>): Run {
  return parseStored(Run, item, `run ${String(item.id)} in the Runs table`);
}

export class RunsStore implements RunRepository {
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
          Item: storedItem(run),
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
    return found.Item ? storedRun(found.Item) : undefined;
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
  async update(id: string, fields: Partial<Run>, guard: RunGuard = "running"): Promise<boolean> {
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
   * Runs newest first, `limit` at a time: a Query on the index of the most selective filter,
   * the other filters applied by DynamoDB after it reads. DynamoDB's `Limit` counts runs read,
   * not runs kept, so the Query is followed (LastEvaluatedKey) until the page holds `limit`
   * runs and one more is known to exist, or the index has no more. `next` is given only then,
   * and points just after the page's last run, so the next page neither skips nor repeats one.
   */
  async list(filter: RunFilter, limit: number, cursor?: string): Promise<RunListPage> {
    const { index, partition, rest } = listingPlan(filter);
    const names: Record<string, string> = { "#pk": INDEXES[index] };
    const values: Record<string, unknown> = { ":pk": partition };
    const conditions = rest.map(([attribute, value], i) => {
      names[`#f${i}`] = attribute;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });
    const wanted = limit + 1;
    const found: Run[] = [];
    let start: Record<string, unknown> | undefined = cursor
      ? decodeCursor(cursor, index, partition)
      : undefined;
    let read = wanted;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: "#pk = :pk",
          ...(conditions.length > 0 ? { FilterExpression: conditions.join(" AND ") } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // Without a filter every run read is kept; with one, read more each time it fell short.
          Limit: Math.max(read, wanted - found.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      found.push(...(page.Items ?? []).map(storedRun));
      start = page.LastEvaluatedKey;
      if (conditions.length > 0) read = Math.min(read * 2, MAX_READ);
      else read = 0;
    } while (found.length < wanted && start);
    const runs = found.slice(0, limit);
    const last = runs.at(-1);
    return {
      runs,
      ...(found.length > limit && last
        ? { next: encodeCursor(index, indexKey(last, index, partition)) }
        : {}),
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

  /**
   * Appends one delivery attempt of the run's notice (the Slack notifier's), whatever the run's
   * status: notices go out after a run ended. One UpdateItem, no read; false when the run is
   * missing.
   */
  async recordNoticeDelivery(id: string, delivery: NoticeDelivery): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression:
            "SET noticeDeliveries = list_append(if_not_exists(noticeDeliveries, :none), :delivery)",
          ConditionExpression: "attribute_exists(id)",
          ExpressionAttributeValues: { ":none": [], ":delivery": [delivery] },
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
