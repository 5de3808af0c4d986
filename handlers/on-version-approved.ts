/**
 * EventBridge "Model Version Approved" (modeldrop's own event, put by the register task and the
 * approve route) → deploy-on-approval: the version served on the model's endpoint when the model
 * asks for it (app/endpoints.ts deployApprovedVersion).
 */
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import { deployApprovedVersion } from "../app/endpoints.js";
import type { Ports } from "../app/ports.js";
import { ports } from "../aws/root.js";
import { VERSION_APPROVED, VersionApproved } from "../core/endpoints.js";
import { lambdaHandler, logger } from "./lambda.js";

const Approved = EventBridgeSchema.extend({
  source: z.literal(VERSION_APPROVED.source),
  "detail-type": z.literal(VERSION_APPROVED.detailType),
  detail: VersionApproved,
});

export function makeHandler(deps: {
  ports: Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now">;
}) {
  return lambdaHandler(Approved, async ({ detail }) => {
    const outcome = await deployApprovedVersion(deps.ports, detail);
    logger.info("deploy on approval", { ...detail, ...outcome });
    return outcome;
  });
}

export const handler = makeHandler({ ports });
