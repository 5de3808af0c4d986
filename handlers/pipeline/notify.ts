/** Sends the run's one notice (email and Slack subscribe to the topic). */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { sendRunNotice } from "../../aws/run-notice.js";

const Payload = z.object({ runId: z.string().min(1) });

export function makeHandler(deps: { root: Pick<Root, "runs" | "notices"> }) {
  return async (event: unknown): Promise<{ notice: string }> => {
    const { runId } = Payload.parse(event);
    return { notice: await sendRunNotice(deps.root.runs(), deps.root.notices(), runId) };
  };
}

export const handler = makeHandler({ root });
