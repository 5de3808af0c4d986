/**
 * The Runs table. Every status change is a conditional write: a run that reached a terminal
 * status keeps it, and a duplicate delivery of the same change is a no-op.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Run } from "../core/run-record.js";
import { TERMINAL_STATUSES } from "../core/runs.js";

export class RunNotFound extends Error {
  override readonly name = "RunNotFound";
}

type Guard =
  /** The run exists and has not ended: status changes and progress. */
  | "running"
  /** The run exists, whatever its status: the report, the notice stamp. */
  | "exists";

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
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
          Item: run,
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
