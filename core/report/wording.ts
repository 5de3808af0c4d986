/** What each run status and task is called on the page, and why a section has nothing to show. */
import type { Run } from "../run-record.js";
import { STEPS } from "../runs.js";

export const STATUS_TEXT: Record<Run["status"], string> = {
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  BELOW_THRESHOLD: "Below threshold",
  FAILED: "Failed",
  STOPPED: "Stopped",
};

export const TASK_TEXT: Record<string, string> = {
  binary: "binary classification",
  multiclass: "multiclass classification",
  regression: "regression",
  image_classification: "image classification",
};

/** Why a piece made by `step` is not on the page, in one sentence. */
export function whyMissing(
  run: Run,
  what: string,
  step: "preprocess" | "train" | "evaluate",
): string {
  const order = STEPS as readonly string[];
  if (run.failure) {
    const failedAt = order.indexOf(run.failure.step);
    if (failedAt !== -1 && failedAt <= order.indexOf(step))
      return `No ${what}: the run failed at ${run.failure.step}${run.failure.step === step ? "" : `, before ${step} ran`}.`;
    return `No ${what}: the run failed at ${run.failure.step} and ${step}'s output was not found.`;
  }
  if (run.status === "STOPPED") return `No ${what}: the run was stopped before ${step} finished.`;
  if (run.status === "QUEUED" || run.status === "RUNNING")
    return `No ${what} yet: ${step} has not finished.`;
  return `No ${what}: ${step}'s output was not found.`;
}
