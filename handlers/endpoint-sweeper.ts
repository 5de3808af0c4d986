/**
 * The scheduled sweep (every 5 minutes): idle endpoints deleted, and records brought to what
 * SageMaker says when an event was missed (app/endpoints.ts sweepEndpoints).
 */
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import { sweepEndpoints } from "../app/endpoints.js";
import type { Ports } from "../app/ports.js";
import { ports } from "../aws/root.js";
import { lambdaHandler, logger } from "./lambda.js";

/** EventBridge's Scheduled Event (Powertools' envelope; the detail is empty). */
const Scheduled = EventBridgeSchema.extend({
  "detail-type": z.literal("Scheduled Event"),
  source: z.literal("aws.events"),
});

export function makeHandler(deps: {
  ports: Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now">;
}) {
  return lambdaHandler(Scheduled, async () => {
    const swept = await sweepEndpoints(deps.ports);
    if (swept.deleted.length > 0 || swept.reconciled.length > 0)
      logger.info("endpoints swept", { ...swept });
    return swept;
  });
}

export const handler = makeHandler({ ports });
