/**
 * The run record as the Runs table holds it (one item per run). Written only through the store
 * in aws/runs-store.ts, whose conditional writes keep a terminal status final.
 */
import type { RunCost } from "./cost.js";
import type { DatasetKind } from "./drops.js";
import type { Gate } from "./evaluation.js";
import type { RunOptions } from "./options.js";
import type { RunStatus } from "./runs.js";

export interface StepTiming {
  job?: string;
  instanceType?: string;
  startedAt: string;
  endedAt?: string;
  seconds?: number;
}

export interface Failure {
  step: string;
  error: string;
  /** One readable sentence or paragraph: the job's own reason when a job failed. */
  reason: string;
  /** Where the failed job's log is (CloudWatch Logs group and stream prefix). */
  log?: { group: string; streamPrefix: string };
}

/** What became of one attempt to deliver a run's notice on one channel. */
export type DeliveryOutcome = "delivered" | "failed" | "retrying";

/** One delivery attempt of the run's notice, as the channel's own sender recorded it. */
export interface NoticeDelivery {
  channel: "slack";
  attempt: number;
  at: string;
  outcome: DeliveryOutcome;
  /** The answer or the error, never the webhook URL. */
  detail: string;
  /** The SNS message the attempt carried. */
  messageId?: string;
}

export interface Run {
  id: string;
  kind: "train" | "predict";
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  dataset: { bucket: string; key: string; versionId: string; name: string; kind?: DatasetKind };
  options: RunOptions;
  optionsSource: "metadata" | "sidecar" | "none" | "request";
  notes: string[];
  /** The registry name the run trains or predicts with, top-level for the byModel index. */
  modelName?: string;
  /** The run this one retries (same input and options). */
  retryOf?: string;
  /** sha256 of an idempotent API request, to tell a repeat from a conflicting reuse of its key. */
  requestHash?: string;
  executionArn?: string;
  step?: string;
  steps?: Record<string, StepTiming>;
  metrics?: Record<string, number>;
  gate?: Gate;
  model?: { name: string; version?: number; approval?: string; artifact?: string };
  cost?: RunCost;
  failure?: Failure;
  lineage?: {
    codeSha256?: string;
    images?: Record<string, string>;
    libraries?: Record<string, string>;
    algorithm?: string;
  };
  report?: string;
  predictions?: string;
  noticeSentAt?: string;
  /** The published notice: its SNS MessageId and when SNS accepted it. */
  notice?: { messageId: string; publishedAt: string };
  /** Attempts the Slack notifier made (email and other SNS deliveries are in SNS's delivery-status log). */
  noticeDeliveries?: NoticeDelivery[];
}
