/**
 * SNS → Slack: turns a run's notice into a Block Kit message and posts it to the incoming
 * webhook whose URL is an SSM SecureString, read at run time. Slack being slow, rate-limited or
 * down never fails a run: 429 is retried after Retry-After, other failures are logged.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { readEnvironment } from "../aws/config.js";
import { type Root, root } from "../aws/root.js";

const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });

const SnsEvent = z.object({
  Records: z.array(
    z.object({ Sns: z.object({ Subject: z.string().nullish(), Message: z.string() }) }),
  ),
});

const ATTEMPTS = 3;
const MAX_WAIT_S = 10;
/** The template's placeholder until someone stores a real webhook URL. */
const UNSET = new Set(["", "unset", "none"]);

export function slackMessage(subject: string, text: string): Record<string, unknown> {
  const [headline = "", ...rest] = text.trim().split("\n");
  return {
    text: subject,
    blocks: [
      { type: "header", text: { type: "plain_text", text: subject.slice(0, 150) } },
      { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
      ...(rest.length > 0
        ? [{ type: "section", text: { type: "mrkdwn", text: rest.join("\n").slice(0, 2900) } }]
        : []),
    ],
  };
}

export interface Deps {
  root: Pick<Root, "secrets">;
  parameterName: () => string;
  post: typeof fetch;
  sleep: (ms: number) => Promise<void>;
}

async function deliver(deps: Deps, url: string, body: string): Promise<string> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const response = await deps.post(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.ok) return "sent";
    if (response.status !== 429 || attempt === ATTEMPTS) return `HTTP ${response.status}`;
    const wait = Math.min(MAX_WAIT_S, Number(response.headers.get("retry-after")) || 1);
    await deps.sleep(wait * 1000);
  }
  return "gave up";
}

export function makeHandler(deps: Deps) {
  return async (event: unknown): Promise<{ delivered: number; skipped?: string }> => {
    const { Records } = SnsEvent.parse(event);
    const url = await deps.root.secrets().read(deps.parameterName());
    if (!url || UNSET.has(url.trim().toLowerCase())) {
      logger.info("no Slack webhook is configured; the notice went to email only");
      return { delivered: 0, skipped: "no webhook configured" };
    }
    let delivered = 0;
    for (const record of Records) {
      const subject = record.Sns.Subject ?? "modeldrop notice";
      try {
        const result = await deliver(
          deps,
          url,
          JSON.stringify(slackMessage(subject, record.Sns.Message)),
        );
        if (result === "sent") delivered += 1;
        else logger.error("Slack refused the notice", { subject, result });
      } catch (error) {
        // The webhook URL is a secret: log the failure, never the URL (fetch quotes a URL it
        // cannot parse in its message).
        const failure = error instanceof Error ? error : new Error(String(error));
        const code = (failure.cause as { code?: string } | undefined)?.code;
        const message = failure.message.replaceAll(url, "<webhook URL>");
        logger.error("Slack could not be reached", { subject, error: message, code });
      }
    }
    return { delivered };
  };
}

export const handler = makeHandler({
  root,
  parameterName: () => readEnvironment(["SLACK_WEBHOOK_PARAMETER"]).SLACK_WEBHOOK_PARAMETER,
  post: (...args) => fetch(...args),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});
