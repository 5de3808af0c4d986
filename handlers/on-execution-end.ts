/**
 * EventBridge "Step Functions Execution Status Change" (ABORTED, FAILED, TIMED_OUT) → the run's
 * terminal status, report and notice (app/execution-end.ts).
 */
import { EventBridgeSchema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import { recordExecutionEnd } from "../app/execution-end.js";
import type { Ports } from "../app/ports.js";
import { ports } from "../aws/root.js";
import { lambdaHandler, logger } from "./lambda.js";

/** EventBridge's envelope (Powertools' schema) around Step Functions' own detail. */
const StatusChange = EventBridgeSchema.extend({
  "detail-type": z.literal("Step Functions Execution Status Change"),
  detail: z.object({
    executionArn: z.string(),
    name: z.string().min(1),
    status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

export function makeHandler(deps: {
  ports: Pick<Ports, "runs" | "objects" | "notices" | "log" | "now">;
}) {
  return lambdaHandler(StatusChange, async ({ detail }) => {
    const ended = await recordExecutionEnd(deps.ports, detail);
    if (ended.outcome === "not-a-run")
      logger.warn("status change for an execution that is not a modeldrop run", { ...detail });
    if (ended.outcome === "recorded") logger.info("execution end recorded", { ...ended });
    return ended;
  });
}

export const handler = makeHandler({ ports });
