/**
 * The model registry (Models table): per model name, a counter item (version 0) that hands out
 * version numbers atomically, and one item per version.
 */
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";

export type Approval = "Approved" | "Pending" | "Rejected";

export interface ModelVersion {
  modelName: string;
  version: number;
  artifact: string;
  sageMakerModel: string;
  runId: string;
  metrics: Record<string, number>;
  approval: Approval;
  approvedBy?: string;
  approvedAt?: string;
  createdAt: string;
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
        UpdateExpression: "ADD latest :one",
        ExpressionAttributeValues: { ":one": 1 },
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
}
