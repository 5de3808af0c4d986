// SNS over the AWS query protocol (form-encoded `Action=...`, XML answers). Email
// subscriptions write a real RFC 5322 message into the outbox folder; Lambda subscriptions
// invoke the function with SNS's event shape; HTTP(S) subscriptions are POSTed to.
// When MODELDROP_SMTP_URL is set (read at each attempt, never logged), email is also sent over SMTP.
//
// As on AWS, Publish answers once the message is accepted: it is written to
// `sns/pending/<messageId>.json` with the subscriptions still owed, then delivered in the
// background with bounded retries and exponential backoff. Every attempt is recorded in
// CloudWatch Logs the way SNS delivery-status logging records it (`sns/<region>/<account>/<topic>`
// for successes, `…/Failure` for failures); a delivery that finally fails is also written to
// `sns/dead-letters.json`. Deliveries left pending by a stop or a crash are resumed by
// `resumePending()` on the next start, and the outbox file is named per message and
// subscription, so a resumed delivery never writes a second email.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { AwsError, escapeXml, isRecord } from "./http.js";
import type { LogsService } from "./logs.js";
import { PendingFolder } from "./pending.js";
import { serveQuery } from "./query-service.js";

const XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/";

interface Subscription {
  arn: string;
  protocol: string;
  endpoint: string;
}

interface Topic {
  arn: string;
  name: string;
  subscriptions: Subscription[];
}

/** A message attribute as Publish takes it (`MessageAttributes.entry.N.Value`). */
export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface Notification {
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  timestamp: string;
  messageAttributes?: Record<string, MessageAttribute>;
}

/** One subscription a pending message is still owed to, with the attempts made so far. */
interface Owed {
  subscriptionArn: string;
  protocol: string;
  endpoint: string;
  attempts: number;
}

interface PendingMessage {
  notification: Notification;
  owed: Owed[];
}

/** What one delivery attempt came to, in the terms of a delivery-status record. */
interface Outcome {
  ok: boolean;
  statusCode?: number;
  providerResponse: string;
}

/** Delivery to a Lambda subscription; the local cloud passes its function runner's invoke. */
export type InvokeFunction = (
  functionArn: string,
  event: unknown,
) => Promise<{ error?: { errorType: string; errorMessage: string } }>;

export interface SnsServiceOptions {
  /** Where delivery-status records are written; without it attempts are not recorded. */
  logs?: LogsService;
  /** Runs Lambda subscriptions; without it a Lambda delivery fails (and is retried, then dead-lettered). */
  invokeFunction?: InvokeFunction;
  /** A delivery that still failed after its retries (it is also in `sns/dead-letters.json`). */
  onDeliveryError?: (subscription: string, error: unknown) => void;
  /**
   * The unit of the retry backoff in milliseconds (default 10 000). Email and HTTP(S) get 4
   * attempts, waiting 1, 2 and 4 units between them (70 s by default); Lambda gets 3 (its two
   * asynchronous-invocation retries), waiting 6 and 12 units (1 and 2 minutes, as Lambda does).
   */
  backoffBaseMs?: number;
}

const POLICY: Record<"email" | "http" | "lambda", { attempts: number; waits: number[] }> = {
  email: { attempts: 4, waits: [1, 2, 4] },
  http: { attempts: 4, waits: [1, 2, 4] },
  lambda: { attempts: 3, waits: [6, 12] },
};

function policyOf(protocol: string) {
  if (protocol.startsWith("email")) return POLICY.email;
  if (protocol === "lambda") return POLICY.lambda;
  return POLICY.http;
}

export class SnsService {
  private readonly path: string;
  private readonly outbox: string;
  private readonly pending: PendingFolder;
  private readonly deadLetterPath: string;
  private readonly logs: LogsService | undefined;
  private readonly backoffBaseMs: number;
  /** Delivery-status records go to one stream per process, as SNS writes to streams of its own. */
  private readonly logStream = randomUUID();
  private topics: Record<string, Topic>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted on shutdown: cuts backoff waits short and cancels SMTP and HTTP attempts under way. */
  private stopping = new AbortController();
  private readonly invokeFunction: InvokeFunction;
  private readonly onDeliveryError: NonNullable<SnsServiceOptions["onDeliveryError"]>;

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
    options: SnsServiceOptions = {},
  ) {
    this.path = join(stateDir, "sns", "topics.json");
    this.outbox = join(stateDir, "outbox");
    this.pending = new PendingFolder(join(stateDir, "sns", "pending"));
    this.deadLetterPath = join(stateDir, "sns", "dead-letters.json");
    this.logs = options.logs;
    this.invokeFunction =
      options.invokeFunction ??
      (async (arn) => {
        throw new Error(`no function runner for ${arn}`);
      });
    this.onDeliveryError = options.onDeliveryError ?? (() => {});
    this.backoffBaseMs = options.backoffBaseMs ?? 10_000;
    this.topics = readJsonFile(this.path, {}) as Record<string, Topic>;
  }

  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serveQuery(XMLNS, (action, form) => this.dispatch(action, form), req, res);
  }

  createTopic(name: string): string {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name))
      throw new AwsError("InvalidParameter", "Invalid parameter: Topic Name");
    const arn = `arn:aws:sns:${this.region}:${this.account}:${name}`;
    if (!this.topics[arn]) {
      this.topics[arn] = { arn, name, subscriptions: [] };
      this.save();
    }
    return arn;
  }

  subscribe(topicArn: string, protocol: string, endpoint: string): string {
    const topic = this.topic(topicArn);
    if (!["email", "email-json", "lambda", "http", "https"].includes(protocol)) {
      throw new AwsError(
        "InvalidParameter",
        `Invalid parameter: Protocol (the local cloud delivers email, email-json, lambda, http and https; got ${protocol})`,
      );
    }
    if (protocol.startsWith("email") && !/^[^@\s]+@[^@\s]+$/.test(endpoint))
      throw new AwsError("InvalidParameter", "Invalid parameter: Email address");
    const existing = topic.subscriptions.find(
      (s) => s.protocol === protocol && s.endpoint === endpoint,
    );
    if (existing) return existing.arn;
    const arn = `${topicArn}:${randomUUID()}`;
    topic.subscriptions.push({ arn, protocol, endpoint });
    this.save();
    return arn;
  }

  /**
   * Accepts a message: validated, written to disk with the subscriptions it is owed to, and
   * answered with its MessageId. Delivery happens afterwards, in the background.
   */
  async publish(
    topicArn: string,
    message: string,
    subject?: string,
    attributes: Record<string, MessageAttribute> = {},
  ): Promise<string> {
    const topic = this.topic(topicArn);
    if (message.length === 0)
      throw new AwsError("InvalidParameter", "Invalid parameter: Empty message");
    // AWS: at most 100 characters, ASCII, starting with a letter, number or punctuation, no line breaks.
    if (
      subject !== undefined &&
      (subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject))
    ) {
      throw new AwsError("InvalidParameter", "Invalid parameter: Subject");
    }
    validateAttributes(attributes);
    // The 256 KiB limit counts the message and its attributes' names, types and values.
    const attributeBytes = Object.entries(attributes).reduce(
      (sum, [name, a]) =>
        sum +
        Buffer.byteLength(name) +
        Buffer.byteLength(a.DataType) +
        Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? ""),
      0,
    );
    if (Buffer.byteLength(message) + attributeBytes > 256 * 1024)
      throw new AwsError("InvalidParameter", "Invalid parameter: Message too long");
    const notification: Notification = {
      topicArn,
      messageId: randomUUID(),
      message,
      timestamp: new Date().toISOString(),
      ...(subject === undefined ? {} : { subject }),
      ...(Object.keys(attributes).length > 0 ? { messageAttributes: attributes } : {}),
    };
    const pending: PendingMessage = {
      notification,
      owed: topic.subscriptions.map((s) => ({
        subscriptionArn: s.arn,
        protocol: s.protocol,
        endpoint: s.endpoint,
        attempts: 0,
      })),
    };
    if (pending.owed.length > 0) {
      this.savePending(pending);
      this.track(pending);
    }
    return notification.messageId;
  }

  /**
   * Delivers what a previous process accepted but had not finished delivering (it stopped
   * during a backoff, or crashed). Call it once the stack's functions exist.
   */
  resumePending(): number {
    let resumed = 0;
    for (const { value } of this.pending.takeLeftOver()) {
      if (!isPendingMessage(value)) continue;
      this.track(value);
      resumed += 1;
    }
    return resumed;
  }

  /** Waits until every accepted message is delivered or has finally failed (tests use it). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /**
   * For stopping the local cloud: no new attempts start, backoff waits end at once and SMTP or
   * HTTP attempts under way are cancelled, so stopping never waits out a retry schedule. What
   * is still owed stays in `sns/pending/` for `resumePending()`. A Lambda invocation under way
   * is waited for (it cannot be taken back).
   */
  async shutdown(): Promise<void> {
    this.stopping.abort();
    await this.settle();
    this.stopping = new AbortController();
  }

  private async dispatch(action: string, form: URLSearchParams): Promise<string> {
    const need = (name: string) => {
      const value = form.get(name);
      if (value === null)
        throw new AwsError("InvalidParameter", `Invalid parameter: ${name} is required`);
      return value;
    };
    switch (action) {
      case "CreateTopic":
        return `<TopicArn>${escapeXml(this.createTopic(need("Name")))}</TopicArn>`;
      case "ListTopics":
        return `<Topics>${Object.keys(this.topics)
          .map((arn) => `<member><TopicArn>${escapeXml(arn)}</TopicArn></member>`)
          .join("")}</Topics>`;
      case "DeleteTopic":
        delete this.topics[need("TopicArn")];
        this.save();
        return "";
      case "Subscribe":
        return `<SubscriptionArn>${escapeXml(this.subscribe(need("TopicArn"), need("Protocol"), need("Endpoint")))}</SubscriptionArn>`;
      case "ListSubscriptionsByTopic":
        return `<Subscriptions>${this.topic(need("TopicArn"))
          .subscriptions.map(
            (s) =>
              `<member><SubscriptionArn>${escapeXml(s.arn)}</SubscriptionArn><Protocol>${s.protocol}</Protocol><Endpoint>${escapeXml(s.endpoint)}</Endpoint><TopicArn>${escapeXml(need("TopicArn"))}</TopicArn><Owner>${this.account}</Owner></member>`,
          )
          .join("")}</Subscriptions>`;
      case "Publish":
        return `<MessageId>${await this.publish(
          need("TopicArn"),
          need("Message"),
          form.get("Subject") ?? undefined,
          formAttributes(form),
        )}</MessageId>`;
      default:
        throw new AwsError("InvalidAction", `The action ${action} is not valid for this endpoint.`);
    }
  }

  private track(pending: PendingMessage): void {
    const signal = this.stopping.signal;
    const deliveries = [...pending.owed].map((owed) => this.deliverTo(pending, owed, signal));
    const all = Promise.allSettled(deliveries).then((results) => {
      for (const r of results)
        if (r.status === "rejected") this.onDeliveryError(pending.notification.messageId, r.reason);
    });
    this.inFlight.add(all);
    void all.finally(() => this.inFlight.delete(all));
  }

  /** Attempts one subscription until it is delivered, finally fails, or the service stops. */
  private async deliverTo(pending: PendingMessage, owed: Owed, stop: AbortSignal): Promise<void> {
    const policy = policyOf(owed.protocol);
    while (!stop.aborted) {
      const attempt = owed.attempts + 1;
      let outcome: Outcome;
      try {
        outcome = await this.attempt(owed, pending.notification, stop);
      } catch (error) {
        outcome = { ok: false, providerResponse: String(error) };
      }
      // Cut short by a stop: not an attempt; the next start makes it again.
      if (stop.aborted && !outcome.ok) return;
      owed.attempts = attempt;
      const final = outcome.ok || attempt >= policy.attempts;
      const waitMs = final ? 0 : (policy.waits[attempt - 1] ?? 1) * this.backoffBaseMs;
      this.recordAttempt(pending.notification, owed, outcome, attempt, final ? undefined : waitMs);
      if (final) {
        if (!outcome.ok) this.deadLetter(pending.notification, owed, outcome);
        pending.owed = pending.owed.filter((o) => o !== owed);
        if (pending.owed.length === 0) this.pending.remove(pending.notification.messageId);
        else this.savePending(pending);
        return;
      }
      this.savePending(pending);
      await wait(waitMs, stop);
    }
  }

  private async attempt(owed: Owed, n: Notification, stop: AbortSignal): Promise<Outcome> {
    if (owed.protocol === "email" || owed.protocol === "email-json")
      return this.sendEmail(owed, n, stop);
    if (owed.protocol === "lambda") {
      const requestId = randomUUID();
      try {
        const result = await this.invokeFunction(owed.endpoint, lambdaEvent(owed, n));
        if (result.error)
          return {
            ok: false,
            statusCode: 200,
            providerResponse: `function error ${result.error.errorType}: ${result.error.errorMessage}`,
          };
        return {
          ok: true,
          statusCode: 202,
          providerResponse: JSON.stringify({ lambdaRequestId: requestId }),
        };
      } catch (error) {
        return {
          ok: false,
          ...(error instanceof AwsError ? { statusCode: error.status } : {}),
          providerResponse: error instanceof Error ? error.message : String(error),
        };
      }
    }
    return postNotification(owed, n, stop);
  }

  /** The message always lands in the outbox (once); with SMTP configured it is sent as well. */
  private async sendEmail(owed: Owed, n: Notification, stop: AbortSignal): Promise<Outcome> {
    const from =
      process.env.MODELDROP_SMTP_FROM || "AWS Notifications <no-reply@sns.amazonaws.com>";
    const { eml, file } = this.outboxEmail(owed, n, from);
    const smtpUrl = process.env.MODELDROP_SMTP_URL;
    if (!smtpUrl)
      return {
        ok: true,
        providerResponse: `written to outbox/${file} (MODELDROP_SMTP_URL is not set)`,
      };
    const transport = createTransport({
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: addressOf(from), to: owed.endpoint },
        raw: eml,
        signal: stop,
      });
      const response = typeof info.response === "string" ? info.response : "250 accepted";
      return {
        ok: true,
        statusCode: Number(/^(\d{3})/.exec(response)?.[1] ?? 250),
        providerResponse: withoutSecret(response, smtpUrl),
      };
    } catch (error) {
      // The SMTP URL carries credentials: name the failure, never the URL.
      const code = (error as { responseCode?: unknown }).responseCode;
      return {
        ok: false,
        ...(typeof code === "number" ? { statusCode: code } : {}),
        providerResponse: withoutSecret(describeSmtpError(error), smtpUrl),
      };
    } finally {
      transport.close();
    }
  }

  /** The outbox copy of the email, written on the first attempt and reused by later ones. */
  private outboxEmail(owed: Owed, n: Notification, from: string): { eml: string; file: string } {
    const stamp = n.timestamp.replace(/[:.]/g, "-");
    const subscriptionId = owed.subscriptionArn.split(":").at(-1) ?? "subscription";
    const file = `${stamp}-${n.messageId}-${subscriptionId}.eml`;
    const path = join(this.outbox, file);
    if (existsSync(path)) return { eml: readFileSync(path, "utf8"), file };
    const body =
      owed.protocol === "email-json"
        ? JSON.stringify(snsMessage(owed, n))
        : `${n.message}\n\n--\nYou are receiving this because ${owed.endpoint} is subscribed to ${n.topicArn} (local cloud outbox).\n`;
    const eml = [
      `From: ${from}`,
      `To: ${owed.endpoint}`,
      `Subject: ${n.subject ?? "AWS Notification Message"}`,
      `Date: ${new Date(n.timestamp).toUTCString()}`,
      `Message-ID: <${n.messageId}.${subscriptionId}@sns.local>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=UTF-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      body,
    ].join("\r\n");
    writeFileAtomic(path, eml);
    return { eml, file };
  }

  /**
   * One delivery-status record per attempt, in SNS's format. `delivery.nextAttemptAt` is the
   * local cloud's addition: set on a failed attempt that will be retried.
   */
  private recordAttempt(
    n: Notification,
    owed: Owed,
    outcome: Outcome,
    attempt: number,
    retryInMs: number | undefined,
  ): void {
    if (!this.logs) return;
    const topicName = n.topicArn.split(":").at(-1) ?? "";
    const group = `sns/${this.region}/${this.account}/${topicName}${outcome.ok ? "" : "/Failure"}`;
    const now = Date.now();
    const record = {
      notification: {
        messageMD5Sum: createHash("md5").update(n.message).digest("hex"),
        messageId: n.messageId,
        topicArn: n.topicArn,
        timestamp: n.timestamp.replace("T", " ").replace("Z", ""),
      },
      delivery: {
        deliveryId: randomUUID(),
        destination: owed.endpoint,
        providerResponse: outcome.providerResponse,
        dwellTimeMs: now - Date.parse(n.timestamp),
        attempts: attempt,
        ...(outcome.statusCode === undefined ? {} : { statusCode: outcome.statusCode }),
        ...(retryInMs === undefined
          ? {}
          : { nextAttemptAt: new Date(now + retryInMs).toISOString() }),
      },
      status: outcome.ok ? "SUCCESS" : "FAILURE",
    };
    this.logs.append(group, this.logStream, JSON.stringify(record), now);
  }

  private deadLetter(n: Notification, owed: Owed, outcome: Outcome): void {
    const reason = `${owed.protocol} delivery to ${owed.endpoint} failed after ${owed.attempts} attempt(s): ${outcome.providerResponse}`;
    this.onDeliveryError(owed.subscriptionArn, reason);
    const letters = readJsonFile(this.deadLetterPath, []) as unknown[];
    letters.push({
      subscription: owed.subscriptionArn,
      protocol: owed.protocol,
      endpoint: owed.endpoint,
      attempts: owed.attempts,
      error: outcome.providerResponse,
      notification: n,
      at: new Date().toISOString(),
    });
    writeJsonAtomic(this.deadLetterPath, letters);
  }

  private savePending(pending: PendingMessage): void {
    this.pending.write(pending.notification.messageId, pending);
  }

  private topic(arn: string): Topic {
    const topic = this.topics[arn];
    if (!topic) throw new AwsError("NotFound", "Topic does not exist", 404);
    return topic;
  }

  private save(): void {
    writeJsonAtomic(this.path, this.topics);
  }
}

function isPendingMessage(value: unknown): value is PendingMessage {
  return (
    isRecord(value) &&
    isRecord(value.notification) &&
    typeof value.notification.messageId === "string" &&
    Array.isArray(value.owed)
  );
}

/** Resolves after `ms`, or at once when the service stops. */
function wait(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue|BinaryValue`. */
function formAttributes(form: URLSearchParams): Record<string, MessageAttribute> {
  const attributes: Record<string, MessageAttribute> = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n += 1) {
    const prefix = `MessageAttributes.entry.${n}`;
    const name = form.get(`${prefix}.Name`) ?? "";
    const dataType = form.get(`${prefix}.Value.DataType`);
    if (dataType === null)
      throw new AwsError(
        "ParameterValueInvalid",
        `The message attribute '${name}' must contain non-empty message attribute type.`,
      );
    const stringValue = form.get(`${prefix}.Value.StringValue`);
    const binaryValue = form.get(`${prefix}.Value.BinaryValue`);
    attributes[name] = {
      DataType: dataType,
      ...(stringValue === null ? {} : { StringValue: stringValue }),
      ...(binaryValue === null ? {} : { BinaryValue: binaryValue }),
    };
  }
  return attributes;
}

function validateAttributes(attributes: Record<string, MessageAttribute>): void {
  const names = Object.keys(attributes);
  if (names.length > 10)
    throw new AwsError(
      "ParameterValueInvalid",
      `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`,
    );
  for (const [name, a] of Object.entries(attributes)) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.startsWith(".") || name.includes(".."))
      throw new AwsError(
        "ParameterValueInvalid",
        `The message attribute name '${name}' is invalid.`,
      );
    if (!/^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$|^String\.Array$/.test(a.DataType))
      throw new AwsError(
        "ParameterValueInvalid",
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    const value = a.DataType.startsWith("Binary") ? a.BinaryValue : a.StringValue;
    if (value === undefined || value === "")
      throw new AwsError(
        "ParameterValueInvalid",
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${a.DataType.split(".")[0]}'.`,
      );
    if (a.DataType.startsWith("Number") && !Number.isFinite(Number(value)))
      throw new AwsError(
        "ParameterValueInvalid",
        `Could not cast message attribute '${name}' value to number.`,
      );
  }
}

/** What SMTP answered or why it could not be reached, in one line. */
function describeSmtpError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (/ECONNREFUSED/.test(message)) return `SMTP connection refused (${message})`;
  if (code === "ETIMEDOUT" || /timeout|never received/i.test(message))
    return `SMTP server did not answer (${message})`;
  return `SMTP: ${message}`;
}

/** Removes the SMTP URL and its credentials from a text, should a library ever quote them. */
function withoutSecret(text: string, smtpUrl: string): string {
  let clean = text.replaceAll(smtpUrl, "<MODELDROP_SMTP_URL>");
  try {
    const url = new URL(smtpUrl);
    for (const secret of [url.password, decodeURIComponent(url.password)])
      if (secret.length > 0) clean = clean.replaceAll(secret, "<password>");
  } catch {
    // Not a URL nodemailer could use either; nothing more to take out.
  }
  return clean;
}

/** `Name <a@b>` → `a@b`. */
function addressOf(mailbox: string): string {
  return /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox.trim();
}

/** MessageAttributes as SNS hands them to subscribers: `{ name: { Type, Value } }`. */
function deliveredAttributes(n: Notification): Record<string, { Type: string; Value: string }> {
  return Object.fromEntries(
    Object.entries(n.messageAttributes ?? {}).map(([name, a]) => [
      name,
      {
        Type: a.DataType,
        Value: (a.DataType.startsWith("Binary") ? a.BinaryValue : a.StringValue) ?? "",
      },
    ]),
  );
}

function snsMessage(owed: Owed, n: Notification): Record<string, unknown> {
  return {
    Type: "Notification",
    MessageId: n.messageId,
    TopicArn: n.topicArn,
    Subject: n.subject ?? null,
    Message: n.message,
    Timestamp: n.timestamp,
    // SNS signs every message; the local cloud cannot, so it sends no Signature,
    // SignatureVersion or SigningCertUrl rather than values that would not verify.
    UnsubscribeUrl: `local://unsubscribe/${owed.subscriptionArn}`,
    MessageAttributes: deliveredAttributes(n),
  };
}

function lambdaEvent(owed: Owed, n: Notification): unknown {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: owed.subscriptionArn,
        Sns: snsMessage(owed, n),
      },
    ],
  };
}

async function postNotification(owed: Owed, n: Notification, stop: AbortSignal): Promise<Outcome> {
  try {
    const response = await fetch(owed.endpoint, {
      method: "POST",
      headers: {
        "content-type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": n.messageId,
        "x-amz-sns-topic-arn": n.topicArn,
        "x-amz-sns-subscription-arn": owed.subscriptionArn,
      },
      body: JSON.stringify(snsMessage(owed, n)),
      signal: AbortSignal.any([stop, AbortSignal.timeout(15000)]),
    });
    const text = (await response.text()).slice(0, 200);
    return {
      ok: response.ok,
      statusCode: response.status,
      providerResponse: text || response.statusText || `HTTP ${response.status}`,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, providerResponse: cause ? `${message} (${cause})` : message };
  }
}
