/** Announcing model events on the account's default EventBridge bus (PutEvents). */
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { ModelEvents } from "../app/ports.js";
import { VERSION_APPROVED, type VersionApproved } from "../core/endpoints.js";

export class ModelEventBus implements ModelEvents {
  constructor(private readonly events: EventBridgeClient) {}

  /** PutEvents answers 200 even when it drops an entry: a failed entry is thrown here. */
  async versionApproved(event: VersionApproved): Promise<void> {
    const answer = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: VERSION_APPROVED.source,
            DetailType: VERSION_APPROVED.detailType,
            Detail: JSON.stringify(event),
          },
        ],
      }),
    );
    const failed = answer.Entries?.find((entry) => entry.ErrorCode);
    if ((answer.FailedEntryCount ?? 0) > 0 || failed)
      throw new Error(
        `EventBridge did not take the approval of ${event.modelName} version ${event.version}: ${failed?.ErrorCode ?? "failed"} ${failed?.ErrorMessage ?? ""}`.trim(),
      );
  }
}
