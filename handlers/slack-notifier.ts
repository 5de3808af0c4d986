/**
 * SNS → Slack: turns a run's notice into a Block Kit message and posts it to the incoming
 * webhook whose URL is an SSM SecureString, read at run time. Slack being slow, rate-limited or
 * down never fails a run: 429 is retried after Retry-After, 5xx and network errors with
 * backoff, three attempts in all; each attempt's outcome is recorded on the run the notice is
 * about (the SNS message attribute `runId`), where GET /runs/{id} shows it.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import { readEnvironment } from "../aws/config.js";
import { RUN_ID_ATTRIBUTE } from "../aws/notices.js";
import { type Root, root } from "../aws/root.js";
import type { DeliveryOutcome } from "../core/run-record.js";

const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });

const SnsEvent = z.object({
  Records: z.array(
    z.object({
      Sns: z.object({
        MessageId: z.string().optional(),
        Subject: z.string().nullish(),
        Message: z.string(),
        MessageAttributes: z
          .record(z.string(), z.object({ Type: z.string(), Value: z.string() }))
          .optional(),
      }),
    }),
  ),
});

const ATTEMPTS = 3;
const MAX_WAIT_S = 10;
/** Backoff after a 5xx or a network error: 1 s, then 2 s. */
const BACKOFF_S = 1;
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
  root: Pick<Root, "secrets" | "runs">;
  parameterName: () => string;
  post: typeof fetch;
  sleep: (ms: number) => Promise<void>;
}

type Attempt = (attempt: number, outcome: DeliveryOutcome, detail: string) => Promise<void>;

/** One attempt's answer: what to record, and whether another attempt may help. */
interface Answer {
  ok: boolean;
  detail: string;
  /** Seconds to wait before the next attempt; absent when retrying cannot help. */
  retryAfterS?: number;
  /** Set when Slack could not be reached at all (with the error's code, if any). */
  network?: { code?: string };
}

async function attemptOnce(deps: Deps, url: string, body: string, n: number): Promise<Answer> {
  const backoff = BACKOFF_S * 2 ** (n - 1);
  try {
    const response = await deps.post(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (response.ok) return { ok: true, detail: `HTTP ${response.status}` };
    if (response.status === 429)
      return {
        ok: false,
        detail: "HTTP 429 (rate limited)",
        retryAfterS: Math.min(MAX_WAIT_S, Number(response.headers.get("retry-after")) || 1),
      };
    if (response.status >= 500)
      return { ok: false, detail: `HTTP ${response.status}`, retryAfterS: backoff };
    return { ok: false, detail: `HTTP ${response.status}` };
  } catch (error) {
    // The webhook URL is a secret: never in a detail or a log line (fetch quotes a URL it
    // cannot parse in its message).
    const failure = error instanceof Error ? error : new Error(String(error));
    const code = (failure.cause as { code?: string } | undefined)?.code;
    const message = failure.message.replaceAll(url, "<webhook URL>");
    const detail = `could not reach Slack: ${message}${code ? ` (${code})` : ""}`;
    // A URL that does not parse will not parse next time either.
    const network = code ? { code } : {};
    if (code === "ERR_INVALID_URL") return { ok: false, detail, network };
    return { ok: false, detail, network, retryAfterS: backoff };
  }
}

async function deliver(
  deps: Deps,
  url: string,
  body: string,
  subject: string,
  record: Attempt,
): Promise<boolean> {
  for (let n = 1; n <= ATTEMPTS; n++) {
    const answer = await attemptOnce(deps, url, body, n);
    if (answer.ok) {
      await record(n, "delivered", answer.detail);
      return true;
    }
    if (answer.retryAfterS === undefined || n === ATTEMPTS) {
      await record(n, "failed", answer.detail);
      if (answer.network)
        logger.error("Slack could not be reached", {
          subject,
          error: answer.detail,
          code: answer.network.code,
          attempts: n,
        });
      else
        logger.error("Slack refused the notice", { subject, result: answer.detail, attempts: n });
      return false;
    }
    await record(n, "retrying", `${answer.detail}; retrying in ${answer.retryAfterS} s`);
    logger.warn("Slack did not take the notice; retrying", {
      subject,
      attempt: n,
      result: answer.detail,
    });
    await deps.sleep(answer.retryAfterS * 1000);
  }
  return false;
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
    for (const { Sns: message } of Records) {
      const subject = message.Subject ?? "modeldrop notice";
      // Messages without a run (the undelivered-queue alarm) are posted, not recorded.
      const runId = message.MessageAttributes?.[RUN_ID_ATTRIBUTE]?.Value;
      const record: Attempt = async (attempt, outcome, detail) => {
        if (!runId) return;
        try {
          await deps.root.runs().recordNoticeDelivery(runId, {
            channel: "slack",
            attempt,
            at: new Date().toISOString(),
            outcome,
            detail,
            ...(message.MessageId ? { messageId: message.MessageId } : {}),
          });
        } catch (error) {
          // Recording is for people looking later; it never holds up the notice.
          logger.warn("could not record the Slack attempt on the run", {
            runId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      };
      if (
        await deliver(
          deps,
          url,
          JSON.stringify(slackMessage(subject, message.Message)),
          subject,
          record,
        )
      )
        delivered += 1;
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
