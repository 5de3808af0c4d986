/**
 * A pipeline execution ended (ABORTED, FAILED, TIMED_OUT) in a way the state machine could not
 * record itself: a user's stop runs no Catch, and a crash or timeout skips the recording states.
 * The write is conditional, so a status the pipeline already recorded stays. The run then gets
 * its report (from what its jobs left) and its notice, each only if it has none yet.
 */
import {
  ENDS_TO_RECORD,
  type ExecutionEnd,
  endFields,
  parseEndedInput,
  reportSource,
} from "../core/execution-end.js";
import { type NoticeOutcome, sendRunNotice } from "./notice.js";
import type { Ports } from "./ports.js";
import { writeRunReport } from "./report.js";

export interface ExecutionStatusChange {
  /** The execution's name: a modeldrop run's id. */
  name: string;
  status: string;
  input?: string | null | undefined;
  error?: string | null | undefined;
  cause?: string | null | undefined;
}

export type ExecutionEndOutcome =
  | { runId: string; outcome: "not-a-run" | "not-an-end" }
  | {
      runId: string;
      outcome: "recorded";
      status: string;
      recorded: boolean;
      notice: NoticeOutcome;
    };

const isEndToRecord = (status: string): status is ExecutionEnd["status"] =>
  (ENDS_TO_RECORD as readonly string[]).includes(status);

export async function recordExecutionEnd(
  ports: Pick<Ports, "runs" | "objects" | "notices" | "log" | "now">,
  change: ExecutionStatusChange,
): Promise<ExecutionEndOutcome> {
  const runId = change.name;
  const run = await ports.runs.get(runId);
  if (!run) return { runId, outcome: "not-a-run" };
  const status = change.status;
  if (!isEndToRecord(status)) return { runId, outcome: "not-an-end" };
  const input = parseEndedInput(change.input);
  const recorded = await ports.runs.update(
    runId,
    endFields(run, { status, error: change.error, cause: change.cause }, ports.now()),
  );
  // The pipeline's own BuildReport did not run on these ends (or ran before a crash).
  const ended = await ports.runs.require(runId);
  if (!ended.report && input) {
    // A report that cannot be written must not cost the run its notice.
    await writeRunReport(ports, reportSource(runId, input)).catch((error: unknown) =>
      ports.log.error("the run's report could not be written", { runId, error }),
    );
  }
  const notice = await sendRunNotice(ports, runId);
  const final = (await ports.runs.require(runId)).status;
  return { runId, outcome: "recorded", status: final, recorded, notice };
}
