/** Sending a run's notice: claimed in the run record first, so it goes out exactly once. */
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
  let messageId: string | undefined;
  try {
    messageId = await publisher.publish(buildNotice(run), runId);
  } catch (error) {
    // Give the claim back so the retry (Step Functions' or EventBridge's) can send it.
    await runs.releaseNotice(runId);
    throw error;
  }
  // The notice is out: failing now would only make a retry find it sent. Without the stamp
  // GET /runs/{id} cannot look up SNS's delivery log, so say so in the function's log.
  if (messageId) {
    try {
      await runs.update(
        runId,
        { notice: { messageId, publishedAt: new Date().toISOString() } },
        "exists",
      );
    } catch (error) {
      console.error(`run ${runId}: notice ${messageId} went out but was not recorded`, error);
    }
  }
  return "sent";
}
