// CloudWatch Logs: groups and streams as append-only JSON-lines files under the state
// directory. SageMaker jobs write under AWS's own group and stream names
// (`/aws/sagemaker/TrainingJobs`, `<job>/algo-1-<epoch>`), functions under `/aws/lambda/<name>`,
// SNS delivery status under `sns/<region>/<account>/<topic>[/Failure]`. FilterLogEvents takes
// CloudWatch's filter pattern syntax, JSON patterns included (local/log-filter.ts).
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { AwsError } from "./http.js";
import { type JsonService, optionalNumber, optionalString, requireString } from "./json-service.js";
import { parseFilterPattern } from "./log-filter.js";

export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

const PAGE = 10000;

export class LogsService implements JsonService {
  readonly contentType = "application/x-amz-json-1.1";
  private readonly root: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, "logs");
    mkdirSync(this.root, { recursive: true });
  }

  /** In-process writers (jobs, functions) append here; the group and stream are created on first use. */
  append(group: string, stream: string, message: string, timestamp = Date.now()): void {
    const folder = this.groupFolder(group);
    mkdirSync(folder, { recursive: true });
    const event: LogEvent = { timestamp, message, ingestionTime: Date.now() };
    appendFileSync(join(folder, `${encodeName(stream)}.jsonl`), `${JSON.stringify(event)}\n`);
  }

  readStream(group: string, stream: string): LogEvent[] {
    const path = join(this.groupFolder(group), `${encodeName(stream)}.jsonl`);
    if (!existsSync(path)) return [];
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as LogEvent);
  }

  streamNames(group: string): string[] {
    const folder = this.groupFolder(group);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => decodeName(f.slice(0, -".jsonl".length)))
      .sort();
  }

  readonly operations = {
    CreateLogGroup: (input: Record<string, unknown>) => {
      const folder = this.groupFolder(requireString(input, "logGroupName"));
      if (existsSync(folder))
        throw new AwsError(
          "ResourceAlreadyExistsException",
          "The specified log group already exists",
        );
      mkdirSync(folder, { recursive: true });
      return {};
    },
    CreateLogStream: (input: Record<string, unknown>) => {
      const group = this.existingGroup(requireString(input, "logGroupName"));
      const path = join(group, `${encodeName(requireString(input, "logStreamName"))}.jsonl`);
      if (existsSync(path))
        throw new AwsError(
          "ResourceAlreadyExistsException",
          "The specified log stream already exists",
        );
      appendFileSync(path, "");
      return {};
    },
    PutLogEvents: (input: Record<string, unknown>) => {
      const group = requireString(input, "logGroupName");
      const stream = requireString(input, "logStreamName");
      this.existingStream(group, stream);
      const events = Array.isArray(input.logEvents) ? input.logEvents : [];
      for (const event of events) {
        if (
          typeof event === "object" &&
          event &&
          "message" in event &&
          typeof event.message === "string"
        ) {
          const timestamp =
            "timestamp" in event && typeof event.timestamp === "number"
              ? event.timestamp
              : Date.now();
          this.append(group, stream, event.message, timestamp);
        }
      }
      return {};
    },
    DescribeLogGroups: (input: Record<string, unknown>) => {
      const prefix = optionalString(input, "logGroupNamePrefix") ?? "";
      const groups = readdirSync(this.root)
        .map(decodeName)
        .filter((g) => g.startsWith(prefix))
        .sort();
      return {
        logGroups: groups.map((logGroupName) => ({
          logGroupName,
          arn: `arn:aws:logs:local:000000000000:log-group:${logGroupName}:*`,
        })),
      };
    },
    DescribeLogStreams: (input: Record<string, unknown>) => {
      const group = requireString(input, "logGroupName");
      this.existingGroup(group);
      const prefix = optionalString(input, "logStreamNamePrefix") ?? "";
      const streams = this.streamNames(group).filter((s) => s.startsWith(prefix));
      return {
        logStreams: streams.map((logStreamName) => {
          const events = this.readStream(group, logStreamName);
          const path = join(this.groupFolder(group), `${encodeName(logStreamName)}.jsonl`);
          return {
            logStreamName,
            creationTime: Math.round(statSync(path).birthtimeMs),
            firstEventTimestamp: events[0]?.timestamp,
            lastEventTimestamp: events.at(-1)?.timestamp,
            lastIngestionTime: events.at(-1)?.ingestionTime,
          };
        }),
      };
    },
    GetLogEvents: (input: Record<string, unknown>) => this.getLogEvents(input),
    FilterLogEvents: (input: Record<string, unknown>) => this.filterLogEvents(input),
  };

  /** Tokens are `f/<index>` (forward) and `b/<index>`: the same token comes back at the end, so a follower polls. */
  private getLogEvents(input: Record<string, unknown>): unknown {
    const group = requireString(input, "logGroupName");
    const stream = requireString(input, "logStreamName");
    this.existingStream(group, stream);
    const startTime = optionalNumber(input, "startTime") ?? 0;
    const endTime = optionalNumber(input, "endTime") ?? Number.POSITIVE_INFINITY;
    const events = this.readStream(group, stream).filter(
      (e) => e.timestamp >= startTime && e.timestamp < endTime,
    );
    const limit = Math.min(optionalNumber(input, "limit") ?? PAGE, PAGE);
    const token = optionalString(input, "nextToken");
    const [direction, at] = token
      ? parseToken(token)
      : [input.startFromHead === true ? "f" : "b", undefined];
    let from: number;
    let to: number;
    if (direction === "f") {
      from = at ?? 0;
      to = Math.min(events.length, from + limit);
    } else {
      to = at ?? events.length;
      from = Math.max(0, to - limit);
    }
    return {
      events: events.slice(from, to),
      nextForwardToken: `f/${String(to).padStart(20, "0")}`,
      nextBackwardToken: `b/${String(from).padStart(20, "0")}`,
    };
  }

  private filterLogEvents(input: Record<string, unknown>): unknown {
    const group = requireString(input, "logGroupName");
    this.existingGroup(group);
    const names = Array.isArray(input.logStreamNames)
      ? input.logStreamNames.filter((n): n is string => typeof n === "string")
      : undefined;
    const prefix = optionalString(input, "logStreamNamePrefix") ?? "";
    const pattern = optionalString(input, "filterPattern") ?? "";
    const matches = parseFilterPattern(pattern);
    const startTime = optionalNumber(input, "startTime") ?? 0;
    const endTime = optionalNumber(input, "endTime") ?? Number.POSITIVE_INFINITY;
    const streams = (names ?? this.streamNames(group)).filter((s) => s.startsWith(prefix));
    const events = streams
      .flatMap((logStreamName) =>
        this.readStream(group, logStreamName).map((e, index) => ({
          ...e,
          logStreamName,
          eventId: `${logStreamName}/${index}`,
        })),
      )
      .filter((e) => e.timestamp >= startTime && e.timestamp < endTime && matches(e.message))
      .sort((a, b) => a.timestamp - b.timestamp);
    const offset = Number(optionalString(input, "nextToken") ?? 0);
    const limit = Math.min(optionalNumber(input, "limit") ?? PAGE, PAGE);
    const page = events.slice(offset, offset + limit);
    const more = offset + limit < events.length;
    return {
      events: page,
      searchedLogStreams: streams.map((logStreamName) => ({
        logStreamName,
        searchedCompletely: true,
      })),
      ...(more ? { nextToken: String(offset + limit) } : {}),
    };
  }

  private groupFolder(group: string): string {
    return join(this.root, encodeName(group));
  }

  private existingGroup(group: string): string {
    const folder = this.groupFolder(group);
    if (!existsSync(folder))
      throw new AwsError("ResourceNotFoundException", "The specified log group does not exist.");
    return folder;
  }

  private existingStream(group: string, stream: string): void {
    const path = join(this.existingGroup(group), `${encodeName(stream)}.jsonl`);
    if (!existsSync(path))
      throw new AwsError("ResourceNotFoundException", "The specified log stream does not exist.");
  }
}

function parseToken(token: string): ["f" | "b", number] {
  const m = /^([fb])\/(\d+)$/.exec(token);
  if (!m?.[1] || !m[2])
    throw new AwsError("InvalidParameterException", "The specified nextToken is invalid.");
  return [m[1] === "f" ? "f" : "b", Number(m[2])];
}

/** Group and stream names hold `/`, `[` and `$`: keep them as one safe file name each. */
function encodeName(name: string): string {
  return encodeURIComponent(name).replaceAll(".", "%2E");
}

function decodeName(name: string): string {
  return decodeURIComponent(name);
}
