/**
 * EventBridge "Object Created" (S3's event, parsed with Powertools' built-in schema) → a
 * training run, or a run refused at intake with its notice (app/intake.ts).
 */
import { S3EventNotificationEventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import { type DropOutcome, takeDrop } from "../app/intake.js";
import type { LaunchSettings } from "../app/launch.js";
import type { Ports } from "../app/ports.js";
import { config } from "../aws/config.js";
import { ports } from "../aws/root.js";
import { lambdaHandler } from "./lambda.js";

export const ObjectCreated = S3EventNotificationEventBridgeSchema.extend({
  "detail-type": z.literal("Object Created"),
});

export interface Deps {
  ports: Pick<Ports, "runs" | "objects" | "pipeline" | "code" | "notices" | "log" | "now">;
  settings: () => LaunchSettings;
}

export function makeHandler(deps: Deps) {
  return lambdaHandler(
    ObjectCreated,
    (event): Promise<DropOutcome> =>
      takeDrop(
        deps.ports,
        {
          bucket: event.detail.bucket.name,
          encodedKey: event.detail.object.key,
          size: event.detail.object.size,
          versionId: event.detail.object["version-id"],
        },
        deps.settings(),
      ),
  );
}

export const handler = makeHandler({ ports, settings: () => config().launch });
