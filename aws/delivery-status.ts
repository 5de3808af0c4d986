/**
 * SNS delivery-status logging, as CloudWatch Logs holds it: group `sns/<region>/<account>/<topic>`
 * for successful deliveries and `…/Failure` for failed ones, one JSON record per delivery
 * (notification.messageId, delivery.destination/attempts/statusCode/providerResponse, status).
 * The topic logs its Lambda deliveries on AWS (serverless.yml); the local cloud logs every
 * protocol, email included. Read with a JSON filter pattern on the message id.
 */
import { type CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { z } from "zod";
import type { DeliveryStatusReader } from "../app/ports.js";
import type { DeliveryStatusRecord } from "../core/run-view.js";

const StatusRecord = z.object({
  notification: z.object({ messageId: z.string() }),
  delivery: z.object({
    destination: z.string(),
    attempts: z.number().int().optional(),
    statusCode: z.number().int().optional(),
    providerResponse: z.string().optional(),
    /** The local cloud's addition: when a failed attempt will be retried. */
    nextAttemptAt: z.string().optional(),
  }),
  status: z.enum(["SUCCESS", "FAILURE"]),
});

/** A page is up to 10 000 events; a notice has a handful of deliveries, so this is plenty. */
const MAX_PAGES = 5;

/** `arn:aws:sns:<region>:<account>:<name>` → the two log groups SNS writes for that topic. */
function deliveryStatusGroups(topicArn: string): { success: string; failure: string } {
  const [, , , region, account, name] = topicArn.split(":");
  if (!region || !account || !name) throw new Error(`not a topic ARN: ${topicArn}`);
  const success = `sns/${region}/${account}/${name}`;
  return { success, failure: `${success}/Failure` };
}

export class DeliveryStatusLogs implements DeliveryStatusReader {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly topicArn: string,
  ) {}

  /**
   * Every delivery-status record of one message, successes and failures, oldest first.
   * `publishedAt` bounds the search (records come after the publish).
   */
  async forMessage(messageId: string, publishedAt?: string): Promise<DeliveryStatusRecord[]> {
    // The id goes into a filter pattern: SNS's are UUIDs; anything else matches nothing.
    if (!/^[A-Za-z0-9-]{1,100}$/.test(messageId)) return [];
    const { success, failure } = deliveryStatusGroups(this.topicArn);
    const since = publishedAt ? Date.parse(publishedAt) - 60_000 : Number.NaN;
    const startTime = Number.isFinite(since) ? since : undefined;
    const found = await Promise.all(
      [success, failure].map((g) => this.read(g, messageId, startTime)),
    );
    return found.flat().sort((a, b) => a.at - b.at || a.attempt - b.attempt);
  }

  private async read(
    group: string,
    messageId: string,
    startTime: number | undefined,
  ): Promise<DeliveryStatusRecord[]> {
    const records: DeliveryStatusRecord[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await this.logs.send(
          new FilterLogEventsCommand({
            logGroupName: group,
            filterPattern: `{ $.notification.messageId = "${messageId}" }`,
            ...(startTime === undefined ? {} : { startTime }),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const event of answer.events ?? []) {
          const record = parse(event.message ?? "");
          if (record?.notification.messageId !== messageId) continue;
          records.push({
            at: event.timestamp ?? 0,
            status: record.status,
            destination: record.delivery.destination,
            attempt: record.delivery.attempts ?? 1,
            ...(record.delivery.statusCode === undefined
              ? {}
              : { statusCode: record.delivery.statusCode }),
            detail: record.delivery.providerResponse ?? "",
            ...(record.delivery.nextAttemptAt
              ? { nextAttemptAt: record.delivery.nextAttemptAt }
              : {}),
          });
        }
        nextToken = answer.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      // No group yet: SNS creates it with the first record it writes.
      if (error instanceof Error && error.name === "ResourceNotFoundException") return [];
      throw error;
    }
    return records;
  }
}

function parse(message: string): z.infer<typeof StatusRecord> | undefined {
  try {
    const parsed = StatusRecord.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
