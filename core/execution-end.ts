/**
 * What a run becomes when its execution ends in a way the state machine could not record
 * itself: a user's stop (no Catch runs), a timeout, or a crash (the local cloud's restart fails
 * what was running). The run keeps whatever it already recorded; this only fills the end.
 */
import { z } from "zod";
import { jobLogLocation } from "./pipeline-state.js";
import type { Run } from "./run-record.js";

export const ENDS_TO_RECORD = ["ABORTED", "FAILED", "TIMED_OUT"] as const;

/** The part of the execution input (training or batch-predict) this needs; the rest is ignored. */
export const EndedExecutionInput = z
  .object({
    bucket: z.string().min(1),
    paths: z.object({
      reportKey: z.string().min(1),
      evaluationKey: z.string().min(1).optional(),
      /** The run's model archive (absent for batch predictions). */
      model: z.string().min(1).optional(),
    }),
  })
  .loose();
export type EndedExecutionInput = z.infer<typeof EndedExecutionInput>;

export interface ExecutionEnd {
  status: (typeof ENDS_TO_RECORD)[number];
  error?: string | null | undefined;
  cause?: string | null | undefined;
}

export function endFields(run: Run, end: ExecutionEnd, now: Date): Partial<Run> {
  const fields: Partial<Run> = { endedAt: now.toISOString() };
  if (end.status === "ABORTED") {
    fields.status = "STOPPED";
    return fields;
  }
  const step = run.step ?? "unknown";
  const log = jobLogLocation(run.id, step);
  fields.status = "FAILED";
  fields.failure = {
    step,
    error: end.error ?? (end.status === "TIMED_OUT" ? "States.Timeout" : "ExecutionFailed"),
    reason:
      end.cause ??
      (end.status === "TIMED_OUT"
        ? "the execution ran past its time limit"
        : "the execution failed without recording why"),
    ...(log ? { log } : {}),
  };
  return fields;
}

/** Where the report goes and what it can read, from the execution's input. */
export function reportSource(runId: string, input: EndedExecutionInput) {
  return {
    runId,
    bucket: input.bucket,
    reportKey: input.paths.reportKey,
    ...(input.paths.evaluationKey ? { evaluationKey: input.paths.evaluationKey } : {}),
    ...(input.paths.model ? { modelUri: input.paths.model } : {}),
  };
}

/** The execution input carried by the status-change event, when it is a modeldrop pipeline's. */
export function parseEndedInput(text: string | null | undefined): EndedExecutionInput | undefined {
  if (!text) return undefined;
  try {
    return EndedExecutionInput.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}
