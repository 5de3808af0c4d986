// SNS over the AWS query protocol (form-encoded `Action=...`, XML answers). Email
// subscriptions write a real RFC 5322 message into the outbox folder; Lambda subscriptions
// invoke the function with SNS's event shape; HTTP(S) subscriptions are POSTed to.
// When MODELDROP_SMTP_URL is set (read at each send, never logged), email is also sent over SMTP.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { createTransport } from "nodemailer";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { AwsError, escapeXml, readBody, requestId, sendXml } from "./http.js";

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

export interface Notification {
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  timestamp: string;
}

/** Delivery to a Lambda subscription; the local cloud wires it to its function runner. */
export type InvokeFunction = (functionArn: string, event: unknown) => Promise<unknown>;

export class SnsService {
  private readonly path: string;
  private readonly outbox: string;
  private topics: Record<string, Topic>;
  invokeFunction: InvokeFunction = async (arn) => {
    throw new Error(`no function runner for ${arn}`);
  };
  /** Failed deliveries are logged here (SNS retries and then drops; we say so). */
  onDeliveryError: (subscription: string, error: unknown) => void = () => {};

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
  ) {
    this.path = join(stateDir, "sns", "topics.json");
    this.outbox = join(stateDir, "outbox");
    this.topics = readJsonFile(this.path, {}) as Record<string, Topic>;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString("utf8"));
    const action = form.get("Action") ?? "";
    try {
      const result = await this.dispatch(action, form);
      sendXml(
        res,
        200,
        `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (error) {
      const e =
        error instanceof AwsError ? error : new AwsError("InternalError", String(error), 500);
      const type = e.status >= 500 ? "Receiver" : "Sender";
      sendXml(
        res,
        e.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`,
      );
    }
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

  async publish(topicArn: string, message: string, subject?: string): Promise<string> {
    const topic = this.topic(topicArn);
    if (message.length === 0)
      throw new AwsError("InvalidParameter", "Invalid parameter: Empty message");
    if (Buffer.byteLength(message) > 256 * 1024)
      throw new AwsError("InvalidParameter", "Invalid parameter: Message too long");
    // AWS: at most 100 characters, ASCII, starting with a letter, number or punctuation, no line breaks.
    if (
      subject !== undefined &&
      (subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject))
    ) {
      throw new AwsError("InvalidParameter", "Invalid parameter: Subject");
    }
    const notification: Notification = {
      topicArn,
      messageId: randomUUID(),
      message,
      timestamp: new Date().toISOString(),
      ...(subject === undefined ? {} : { subject }),
    };
    await Promise.all(topic.subscriptions.map((s) => this.deliver(s, notification)));
    return notification.messageId;
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
        return `<MessageId>${await this.publish(need("TopicArn"), need("Message"), form.get("Subject") ?? undefined)}</MessageId>`;
      default:
        throw new AwsError("InvalidAction", `The action ${action} is not valid for this endpoint.`);
    }
  }

  private async deliver(subscription: Subscription, n: Notification): Promise<void> {
    try {
      if (subscription.protocol === "email" || subscription.protocol === "email-json")
        await this.sendEmail(subscription, n);
      else if (subscription.protocol === "lambda")
        await this.invokeFunction(subscription.endpoint, lambdaEvent(subscription, n));
      else await postNotification(subscription, n);
    } catch (error) {
      this.onDeliveryError(subscription.arn, error);
    }
  }

  /** The message always lands in the outbox; with SMTP configured it is sent as well. */
  private async sendEmail(subscription: Subscription, n: Notification): Promise<void> {
    const from =
      process.env.MODELDROP_SMTP_FROM || "AWS Notifications <no-reply@sns.amazonaws.com>";
    const eml = this.writeEmail(subscription, n, from);
    const smtpUrl = process.env.MODELDROP_SMTP_URL;
    if (!smtpUrl) return;
    const transport = createTransport({
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    try {
      await transport.sendMail({
        envelope: { from: addressOf(from), to: subscription.endpoint },
        raw: eml,
      });
    } catch (error) {
      // The SMTP URL carries credentials: name the failure, never the URL.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`SMTP delivery to ${subscription.endpoint} failed: ${reason}`);
    } finally {
      transport.close();
    }
  }

  private writeEmail(subscription: Subscription, n: Notification, from: string): string {
    const body =
      subscription.protocol === "email-json"
        ? JSON.stringify(snsMessage(subscription, n))
        : `${n.message}\n\n--\nYou are receiving this because ${subscription.endpoint} is subscribed to ${n.topicArn} (local cloud outbox).\n`;
    const eml = [
      `From: ${from}`,
      `To: ${subscription.endpoint}`,
      `Subject: ${n.subject ?? "AWS Notification Message"}`,
      `Date: ${new Date(n.timestamp).toUTCString()}`,
      `Message-ID: <${n.messageId}@sns.local>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=UTF-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      body,
    ].join("\r\n");
    const stamp = n.timestamp.replace(/[:.]/g, "-");
    writeFileAtomic(join(this.outbox, `${stamp}-${n.messageId}.eml`), eml);
    return eml;
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

/** `Name <a@b>` → `a@b`. */
function addressOf(mailbox: string): string {
  return /<([^>]+)>/.exec(mailbox)?.[1] ?? mailbox.trim();
}

function snsMessage(subscription: Subscription, n: Notification): Record<string, unknown> {
  return {
    Type: "Notification",
    MessageId: n.messageId,
    TopicArn: n.topicArn,
    Subject: n.subject ?? null,
    Message: n.message,
    Timestamp: n.timestamp,
    SignatureVersion: "1",
    Signature: "",
    SigningCertUrl: "",
    UnsubscribeUrl: `local://unsubscribe/${subscription.arn}`,
    MessageAttributes: {},
  };
}

function lambdaEvent(subscription: Subscription, n: Notification): unknown {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: subscription.arn,
        Sns: snsMessage(subscription, n),
      },
    ],
  };
}

async function postNotification(subscription: Subscription, n: Notification): Promise<void> {
  const response = await fetch(subscription.endpoint, {
    method: "POST",
    headers: {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": "Notification",
      "x-amz-sns-message-id": n.messageId,
      "x-amz-sns-topic-arn": n.topicArn,
      "x-amz-sns-subscription-arn": subscription.arn,
    },
    body: JSON.stringify(snsMessage(subscription, n)),
    signal: AbortSignal.timeout(15000),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${subscription.endpoint}`);
}
