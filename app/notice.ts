/** Sending a run's notice: claimed in the run record first, so it goes out exactly once. */
import { buildNotice } from "../core/notice.js";
import { isTerminal } from "../core/runs.js";
import type { Ports } from "./ports.js";

export type NoticeOutcome = "sent" | "already-sent";

export async function sendRunNotice(
  ports: Pick<Ports, "runs" | "notices" | "log" | "now">,
  runId: string,
): Promise<NoticeOutcome> {
  const run = await ports.runs.require(runId);
  if (!isTerminal(run.status))
    throw new Error(`run ${runId} is ${run.status}: a notice is sent when a run ends`);
  if (!(await ports.runs.claimNotice(runId))) return "already-sent";
  let messageId: string | undefined;
  try {
    messageId = await ports.notices.publish(buildNotice(run), runId);
  } catch (error) {
    // Give the claim back so the retry (Step Functions' or EventBridge's) can send it.
    await ports.runs.releaseNotice(runId);
    throw error;
  }
  // The notice is out: failing now would only make a retry find it sent. Without the stamp
  // GET /runs/{id} cannot look up SNS's delivery log, so say so in the function's log.
  if (messageId) {
    try {
      await ports.runs.update(
        runId,
        { notice: { messageId, publishedAt: ports.now().toISOString() } },
        "exists",
      );
    } catch (error) {
      ports.log.error("the notice went out but was not recorded on the run", {
        runId,
        messageId,
        error,
      });
    }
  }
  return "sent";
}
