/** Publishing a run's notice to the SNS topic (email and Slack subscribe to it). */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { NoticeChannel } from "../app/ports.js";
import type { Notice } from "../core/notice.js";

/** The message attribute that names the run, so subscribers (the Slack notifier) can record on it. */
export const RUN_ID_ATTRIBUTE = "runId";

export class NoticePublisher implements NoticeChannel {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  /** Publishes a notice (run `runId`'s when given); the SNS MessageId once SNS accepted it. */
  async publish(notice: Notice, runId?: string): Promise<string | undefined> {
    const sent = await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notice.subject,
        Message: notice.text,
        ...(runId === undefined
          ? {}
          : {
              MessageAttributes: {
                [RUN_ID_ATTRIBUTE]: { DataType: "String", StringValue: runId },
              },
            }),
      }),
    );
    return sent.MessageId;
  }
}
