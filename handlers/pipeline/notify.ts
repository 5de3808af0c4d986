/** Sends the run's one notice (email and Slack subscribe to the topic). */
import { z } from "zod";
import { sendRunNotice } from "../../app/notice.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ runId: z.string().min(1) });

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "notices" | "log" | "now"> }) {
  return lambdaHandler(Payload, async (event) => ({
    notice: await sendRunNotice(deps.ports, event.runId),
  }));
}

export const handler = makeHandler({ ports });
