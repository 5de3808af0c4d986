/**
 * A run's notice → Slack: a Block Kit message posted to the incoming webhook whose URL is a
 * secret read at run time. Slack being slow, rate-limited or down never fails a run: 429 is
 * retried after Retry-After, 5xx and network errors with backoff, three attempts in all; each
 * attempt's outcome is recorded on the run the notice is about, where GET /runs/{id} shows it.
 */
import type { DeliveryOutcome } from "../core/run-record.js";
import type { Ports } from "./ports.js";

const ATTEMPTS = 3;
const MAX_WAIT_S = 10;
/** Backoff after a 5xx or a network error: 1 s, then 2 s. */
const BACKOFF_S = 1;
/** The template's placeholder until someone stores a real webhook URL. */
const UNSET = new Set(["", "unset", "none"]);

function slackMessage(subject: string, text: string): Record<string, unknown> {
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

/** One published notice, as SNS hands it to a subscriber. */
export interface PublishedNotice {
  messageId?: string | undefined;
  subject: string;
  text: string;
  /** The run it is about (absent on messages such as the undelivered-events alarm). */
  runId?: string | undefined;
}

type SlackPorts = Pick<Ports, "secrets" | "runs" | "log" | "now">;

/** How the notifier reaches Slack and waits between attempts (a test fakes both). */
export interface SlackTransport {
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

function errorCode(error: Error): string | undefined {
  const cause: unknown = error.cause;
  if (typeof cause === "object" && cause !== null && "code" in cause)
    return typeof cause.code === "string" ? cause.code : undefined;
  return undefined;
}

async function attemptOnce(
  transport: SlackTransport,
  url: string,
  body: string,
  n: number,
): Promise<Answer> {
  const backoff = BACKOFF_S * 2 ** (n - 1);
  try {
    const response = await transport.post(url, {
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
    const code = errorCode(failure);
    const message = failure.message.replaceAll(url, "<webhook URL>");
    const detail = `could not reach Slack: ${message}${code ? ` (${code})` : ""}`;
    // A URL that does not parse will not parse next time either.
    const network = code ? { code } : {};
    if (code === "ERR_INVALID_URL") return { ok: false, detail, network };
    return { ok: false, detail, network, retryAfterS: backoff };
  }
}

async function deliver(
  ports: SlackPorts,
  transport: SlackTransport,
  url: string,
  body: string,
  subject: string,
  record: Attempt,
): Promise<boolean> {
  for (let n = 1; n <= ATTEMPTS; n++) {
    const answer = await attemptOnce(transport, url, body, n);
    if (answer.ok) {
      await record(n, "delivered", answer.detail);
      return true;
    }
    if (answer.retryAfterS === undefined || n === ATTEMPTS) {
      await record(n, "failed", answer.detail);
      if (answer.network)
        ports.log.error("Slack could not be reached", {
          subject,
          error: answer.detail,
          code: answer.network.code,
          attempts: n,
        });
      else
        ports.log.error("Slack refused the notice", {
          subject,
          result: answer.detail,
          attempts: n,
        });
      return false;
    }
    await record(n, "retrying", `${answer.detail}; retrying in ${answer.retryAfterS} s`);
    ports.log.warn("Slack did not take the notice; retrying", {
      subject,
      attempt: n,
      result: answer.detail,
    });
    await transport.sleep(answer.retryAfterS * 1000);
  }
  return false;
}

/** Posts each notice to the webhook stored under `webhookParameter`, if one is configured. */
export async function postToSlack(
  ports: SlackPorts,
  transport: SlackTransport,
  notices: PublishedNotice[],
  webhookParameter: string,
): Promise<{ delivered: number; skipped?: string }> {
  const url = await ports.secrets.read(webhookParameter);
  if (!url || UNSET.has(url.trim().toLowerCase())) {
    ports.log.info("no Slack webhook is configured; the notice went to email only");
    return { delivered: 0, skipped: "no webhook configured" };
  }
  let delivered = 0;
  for (const notice of notices) {
    const { runId, messageId, subject } = notice;
    const record: Attempt = async (attempt, outcome, detail) => {
      // Messages without a run (the undelivered-events alarm) are posted, not recorded.
      if (!runId) return;
      try {
        await ports.runs.recordNoticeDelivery(runId, {
          channel: "slack",
          attempt,
          at: ports.now().toISOString(),
          outcome,
          detail,
          ...(messageId ? { messageId } : {}),
        });
      } catch (error) {
        // Recording is for people looking later; it never holds up the notice.
        ports.log.warn("could not record the Slack attempt on the run", {
          runId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    };
    const body = JSON.stringify(slackMessage(subject, notice.text));
    if (await deliver(ports, transport, url, body, subject, record)) delivered += 1;
  }
  return { delivered };
}
