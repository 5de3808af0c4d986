/**
 * A SageMaker job's log, as CloudWatch Logs holds it: group `/aws/sagemaker/<Kind>Jobs`, one
 * stream per instance starting `<jobName>/`. Read as a tail (the newest events) plus a forward
 * token to follow what is logged next.
 */
import {
  type CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import type { JobLogReader, LogPage } from "../app/ports.js";

export class JobLogs implements JobLogReader {
  constructor(private readonly logs: CloudWatchLogsClient) {}

  /** The job's (first instance's) stream, or undefined while it has none. */
  async stream(group: string, jobName: string): Promise<string | undefined> {
    try {
      const found = await this.logs.send(
        new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: `${jobName}/` }),
      );
      return found.logStreams?.map((s) => s.logStreamName ?? "").find(Boolean);
    } catch (error) {
      if (error instanceof Error && error.name === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  /**
   * `"tail"`: the newest `limit` events; `"head"`: the first ones; a token from an earlier
   * answer: the events logged after it. Always oldest first.
   */
  async read(
    group: string,
    stream: string,
    limit: number,
    from: "tail" | "head" | { token: string },
  ): Promise<LogPage> {
    const page = await this.logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        limit,
        startFromHead: from !== "tail",
        ...(typeof from === "object" ? { nextToken: from.token } : {}),
      }),
    );
    return {
      stream,
      events: (page.events ?? []).map((e) => ({
        timestamp: e.timestamp ?? 0,
        message: e.message ?? "",
      })),
      ...(page.nextForwardToken ? { next: page.nextForwardToken } : {}),
    };
  }
}
