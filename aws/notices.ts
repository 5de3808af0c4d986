/** Publishing a run's notice to the SNS topic (email and Slack subscribe to it). */
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Notice } from "../core/notice.js";

export class NoticePublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notice: Notice): Promise<string | undefined> {
    const sent = await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: notice.subject,
        Message: notice.text,
      }),
    );
    return sent.MessageId;
  }
}
