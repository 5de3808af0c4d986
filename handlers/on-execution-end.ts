/**
 * EventBridge "Step Functions Execution Status Change" (ABORTED, FAILED, TIMED_OUT) → the run's
 * terminal status, for the ends the state machine cannot record itself: a user's stop runs no
 * Catch, and a crash or timeout skips the recording states. The write is conditional, so a
 * status the pipeline already recorded stays, and the notice goes out only if none was sent.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { type Root, root } from "../aws/root.js";
import { sendRunNotice } from "../aws/run-notice.js";
import type { Run } from "../core/run-record.js";

const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });

export const StatusChange = z.object({
  "detail-type": z.literal("Step Functions Execution Status Change"),
  detail: z.object({
    executionArn: z.string(),
    name: z.string().min(1),
    status: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

export function makeHandler(deps: { root: Pick<Root, "runs" | "notices">; now: () => Date }) {
  return async (event: unknown): Promise<{ runId: string; status?: string; notice?: string }> => {
    const { detail } = StatusChange.parse(event);
    const runId = detail.name;
    const runs = deps.root.runs();
    const run = await runs.get(runId);
    if (!run) {
      logger.warn("status change for an execution that is not a modeldrop run", { ...detail });
      return { runId };
    }
    if (!["ABORTED", "FAILED", "TIMED_OUT"].includes(detail.status)) return { runId };
    const fields: Partial<Run> = { endedAt: deps.now().toISOString() };
    if (detail.status === "ABORTED") {
      fields.status = "STOPPED";
    } else {
      fields.status = "FAILED";
      fields.failure = {
        step: run.step ?? "unknown",
        error:
          detail.error ?? (detail.status === "TIMED_OUT" ? "States.Timeout" : "ExecutionFailed"),
        reason:
          detail.cause ??
          (detail.status === "TIMED_OUT"
            ? "the execution ran past its time limit"
            : "the execution failed without recording why"),
      };
    }
    const recorded = await runs.update(runId, fields);
    const notice = await sendRunNotice(runs, deps.root.notices(), runId);
    const status = (await runs.require(runId)).status;
    logger.info("execution end recorded", {
      runId,
      execution: detail.status,
      status,
      recorded,
      notice,
    });
    return { runId, status, notice };
  };
}

export const handler = makeHandler({ root, now: () => new Date() });
