/**
 * The model registry (Models table, aws/versioned-items.ts): one item per version, and the
 * approval decisions on them.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ApprovalChange, ModelRegistry } from "../app/ports.js";
import { DeployOnApproval } from "../core/endpoints.js";
import { Conflict, parseStored } from "../core/errors.js";
import { type ModelName, ModelVersion } from "../core/registry.js";
import { isConditionFailure } from "./runs-store.js";
import { VersionedItems } from "./versioned-items.js";

/**
 * Counter items carry `listed = "model"`, so the byName index lists model names by Query. A
 * model's own settings (deploy-on-approval) are kept on its counter item too.
 */
const LISTED = "model";

function storedVersion(item: Record<string, unknown>): ModelVersion {
  return parseStored(
    ModelVersion,
    item,
    `version ${String(item.version)} of model ${String(item.modelName)} in the Models table`,
  );
}

export class ModelsStore implements ModelRegistry {
  private readonly items: VersionedItems<ModelVersion>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.items = new VersionedItems(db, {
      table,
      nameKey: "modelName",
      listed: LISTED,
      noun: "model",
      parse: storedVersion,
    });
  }

  nextVersion(modelName: string): Promise<number> {
    return this.items.nextVersion(modelName);
  }

  put(version: ModelVersion): Promise<void> {
    return this.items.putNew(version);
  }

  names(limit: number, cursor?: string): Promise<{ names: ModelName[]; next?: string }> {
    return this.items.names(limit, cursor);
  }

  newest(modelName: string): Promise<ModelVersion | undefined> {
    return this.items.newest(modelName);
  }

  versions(modelName: string): Promise<ModelVersion[]> {
    return this.items.versions(modelName);
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

  async deployOnApproval(modelName: string): Promise<DeployOnApproval | undefined> {
    const answer = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { modelName, version: 0 },
        ProjectionExpression: "deployOnApproval",
        ConsistentRead: true,
      }),
    );
    const stored = answer.Item?.deployOnApproval;
    return stored === undefined
      ? undefined
      : parseStored(
          DeployOnApproval,
          stored,
          `the deploy-on-approval setting of model ${modelName}`,
        );
  }

  /**
   * On the counter item, which a model that has no version yet gets here (without `listed`, so
   * it is not listed until its first version): the first approved version deploys too.
   */
  async setDeployOnApproval(
    modelName: string,
    setting: DeployOnApproval | undefined,
  ): Promise<void> {
    const Key = { modelName, version: 0 };
    if (setting) {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: "SET deployOnApproval = :setting",
          ExpressionAttributeValues: { ":setting": setting },
        }),
      );
      return;
    }
    try {
      // Conditional, so turning off what was never set makes no item.
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: "REMOVE deployOnApproval",
          ConditionExpression: "attribute_exists(modelName)",
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
