/**
 * Reading the jobs' progress lines (`MODELDROP_PROGRESS {"step", "done", "total", "message"}`,
 * written by ml/modeldrop_ml/progress.py) out of their logs.
 */
import { z } from "zod";

const PROGRESS_PREFIX = "MODELDROP_PROGRESS ";

const ProgressLine = z.object({
  step: z.string(),
  done: z.number(),
  total: z.number(),
  message: z.string().default(""),
});

export interface JobProgress {
  step: string;
  done: number;
  total: number;
  message: string;
  at: string;
}

/** One log line as progress, or undefined when it is a line for people (or malformed). */
function parseProgress(message: string, timestamp: number): JobProgress | undefined {
  const at = message.indexOf(PROGRESS_PREFIX);
  if (at < 0) return undefined;
  try {
    const line = ProgressLine.parse(JSON.parse(message.slice(at + PROGRESS_PREFIX.length)));
    return { ...line, at: new Date(timestamp).toISOString() };
  } catch {
    return undefined;
  }
}

/** The newest progress line among log events (oldest first, as logs are read). */
export function latestProgress(
  events: readonly { timestamp: number; message: string }[],
): JobProgress | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    const found = event ? parseProgress(event.message, event.timestamp) : undefined;
    if (found) return found;
  }
  return undefined;
}
