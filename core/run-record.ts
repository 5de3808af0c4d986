/**
 * The run record as the Runs table holds it (one item per run), as a schema: what the store
 * writes is typed by it and what it reads is parsed with it, so an item that does not match
 * fails with the field at fault instead of travelling on as a cast. Written only through the
 * store in aws/runs-store.ts, whose conditional writes keep a terminal status final.
 */
import { z } from "zod";
import { RunOptions } from "./options.js";
import { RUN_STATUSES } from "./runs.js";

export const StepTiming = z.object({
  job: z.string().optional(),
  instanceType: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  seconds: z.number().optional(),
});
export type StepTiming = z.infer<typeof StepTiming>;

export const Failure = z.object({
  step: z.string(),
  error: z.string(),
  /** One readable sentence or paragraph: the job's own reason when a job failed. */
  reason: z.string(),
  /** Where the failed job's log is (CloudWatch Logs group and stream prefix). */
  log: z.object({ group: z.string(), streamPrefix: z.string() }).optional(),
});
export type Failure = z.infer<typeof Failure>;

/** What became of one attempt to deliver a run's notice on one channel. */
const DELIVERY_OUTCOMES = ["delivered", "failed", "retrying"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** One delivery attempt of the run's notice, as the channel's own sender recorded it. */
export const NoticeDelivery = z.object({
  channel: z.literal("slack"),
  attempt: z.number().int(),
  at: z.string(),
  outcome: z.enum(DELIVERY_OUTCOMES),
  /** The answer or the error, never the webhook URL. */
  detail: z.string(),
  /** The SNS message the attempt carried. */
  messageId: z.string().optional(),
});
export type NoticeDelivery = z.infer<typeof NoticeDelivery>;

export const Gate = z.object({
  /** A built-in metric's name, or the dotted path a user's modeldrop.json gates on. */
  metric: z.string().min(1),
  threshold: z.number(),
  value: z.number(),
  direction: z.enum(["higher", "lower"]),
  passed: z.boolean(),
});
export type Gate = z.infer<typeof Gate>;

const JOB_KINDS = ["processing", "training", "transform"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

const StepCost = z.object({
  step: z.string(),
  kind: z.enum(JOB_KINDS),
  instanceType: z.string(),
  /** Billable seconds: training's own figure, else end minus start. */
  seconds: z.number(),
  usd: z.number().nullable(),
});

export const RunCost = z.object({
  totalUsd: z.number(),
  steps: z.array(StepCost),
  /** Instance types missing from the price table (their steps count as unknown, not zero). */
  unpriced: z.array(z.string()),
  priceTable: z.object({ date: z.string(), region: z.string() }),
});
export type RunCost = z.infer<typeof RunCost>;

export const DATASET_KINDS = ["table", "images"] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/**
 * What the run's search did (built-in runs): every candidate compared on validation, the
 * winner and why it won, what was left out and whether the budget cut the search short.
 */
export const SearchSummary = z.object({
  metric: z.string(),
  winner: z.string().describe("the algorithm chosen, or ensemble"),
  why: z.string(),
  budgetSeconds: z.number().optional().describe("the whole search's wall-clock budget"),
  cutShort: z.boolean().describe("a candidate stopped tuning at its share of the budget"),
  candidates: z.array(
    z.object({
      algorithm: z.string(),
      score: z.number().nullable().describe("the validation metric"),
      std: z.number().optional().describe("its spread across the folds"),
      method: z.string().describe("5-fold cross-validation, or validation split"),
      trials: z.int(),
      stoppedBy: z.enum(["trials", "budget"]),
      seconds: z.number().optional(),
      hyperparameters: z.record(z.string(), z.unknown()),
    }),
  ),
  ensemble: z
    .object({ score: z.number(), weights: z.record(z.string(), z.number()), chosen: z.boolean() })
    .optional(),
  failed: z
    .array(z.object({ step: z.string(), error: z.string(), reason: z.string() }))
    .optional()
    .describe("candidates whose training job failed and that were left out"),
});
export type SearchSummary = z.infer<typeof SearchSummary>;

export const Run = z.object({
  id: z.string().min(1),
  kind: z.enum(["train", "predict"]),
  status: z.enum(RUN_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  dataset: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string(),
    name: z.string(),
    kind: z.enum(DATASET_KINDS).optional(),
  }),
  options: RunOptions,
  optionsSource: z.enum(["metadata", "sidecar", "none", "request"]),
  notes: z.array(z.string()),
  /** The registry name the run trains or predicts with, top-level for the byModel index. */
  modelName: z.string().optional(),
  /** The run this one retries (same input and options). */
  retryOf: z.string().optional(),
  /** sha256 of an idempotent API request, to tell a repeat from a conflicting reuse of its key. */
  requestHash: z.string().optional(),
  /** The user's registered code the run uses (options.code, pinned to a version when recorded). */
  code: z
    .object({ name: z.string(), version: z.number().int().positive(), sha256: z.string() })
    .optional(),
  executionArn: z.string().optional(),
  step: z.string().optional(),
  steps: z.record(z.string(), StepTiming).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  gate: Gate.optional(),
  model: z
    .object({
      name: z.string(),
      version: z.number().int().optional(),
      approval: z.enum(["Approved", "Pending", "Rejected"]).optional(),
      artifact: z.string().optional(),
    })
    .optional(),
  cost: RunCost.optional(),
  failure: Failure.optional(),
  search: SearchSummary.optional(),
  lineage: z
    .object({
      codeSha256: z.string().optional(),
      images: z.record(z.string(), z.string()).optional(),
      libraries: z.record(z.string(), z.string()).optional(),
      algorithm: z.string().optional(),
    })
    .optional(),
  report: z.string().optional(),
  predictions: z.string().optional(),
  noticeSentAt: z.string().optional(),
  /** The published notice: its SNS MessageId and when SNS accepted it. */
  notice: z.object({ messageId: z.string(), publishedAt: z.string() }).optional(),
  /** Attempts the Slack notifier made (email and other SNS deliveries are in SNS's delivery-status log). */
  noticeDeliveries: z.array(NoticeDelivery).optional(),
});
export type Run = z.infer<typeof Run>;
