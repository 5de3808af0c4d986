/** Sending a run's one notice: claimed in the run record first, so it goes out exactly once. */
import { buildNotice } from "../core/notice.js";
import { isTerminal } from "../core/runs.js";
import type { NoticePublisher } from "./notices.js";
import type { RunsStore } from "./runs-store.js";

export async function sendRunNotice(
  runs: RunsStore,
  publisher: NoticePublisher,
  runId: string,
): Promise<"sent" | "already-sent"> {
  const run = await runs.require(runId);
  if (!isTerminal(run.status))
    throw new Error(`run ${runId} is ${run.status}: a notice is sent when a run ends`);
  if (!(await runs.claimNotice(runId))) return "already-sent";
  try {
    await publisher.publish(buildNotice(run));
  } catch (error) {
    // Give the claim back so the retry (Step Functions' or EventBridge's) can send it.
    await runs.releaseNotice(runId);
    throw error;
  }
  return "sent";
}
