/**
 * EventBridge "SageMaker Endpoint State Change" for modeldrop's endpoints (`md-ep-*`) → the
 * endpoint's record and its one notice per change (app/endpoints.ts).
 */
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import { recordEndpointChange } from "../app/endpoints.js";
import type { Ports } from "../app/ports.js";
import { ports } from "../aws/root.js";
import { statusFromEvent } from "../core/endpoints.js";
import { lambdaHandler, logger } from "./lambda.js";

/** EventBridge's envelope (Powertools' schema) around SageMaker's own detail. */
const StateChange = EventBridgeSchema.extend({
  "detail-type": z.literal("SageMaker Endpoint State Change"),
  detail: z.object({
    EndpointName: z.string().min(1),
    EndpointConfigName: z.string().optional(),
    EndpointStatus: z.string(),
    FailureReason: z.string().nullish(),
    Tags: z.record(z.string(), z.string()).nullish(),
  }),
});

export function makeHandler(deps: {
  ports: Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now">;
}) {
  return lambdaHandler(StateChange, async ({ detail }) => {
    const status = statusFromEvent(detail.EndpointStatus);
    if (!status) {
      logger.warn("an endpoint status modeldrop does not follow", { ...detail });
      return { endpoint: detail.EndpointName, recorded: false };
    }
    const written = await recordEndpointChange(
      deps.ports,
      {
        name: detail.EndpointName,
        status,
        configName: detail.EndpointConfigName,
        failureReason: detail.FailureReason ?? undefined,
      },
      { modelName: detail.Tags?.["modeldrop:model"], mode: detail.Tags?.["modeldrop:mode"] },
    );
    logger.info("endpoint state change", {
      endpoint: detail.EndpointName,
      status,
      recorded: Boolean(written),
    });
    return { endpoint: detail.EndpointName, recorded: Boolean(written) };
  });
}

export const handler = makeHandler({ ports });
