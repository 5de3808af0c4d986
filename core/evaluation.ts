/**
 * Reading evaluation.json (SageMaker's model-quality layout, written by the evaluate job) and
 * deciding the quality gate. The handler decides, not the state machine: only the domain knows
 * whether the chosen metric is better higher or lower.
 */
import { z } from "zod";
import {
  DEFAULT_METRIC,
  InvalidOptions,
  impossibleThreshold,
  type METRICS,
  type RunOptions,
  TASKS,
} from "./options.js";
import type { Gate, SearchSummary } from "./run-record.js";

const Metric = z.object({ value: z.number(), standard_deviation: z.number().nullish() });
const Section = z.record(z.string(), z.unknown());

export const Evaluation = z.object({
  binary_classification_metrics: Section.optional(),
  multiclass_classification_metrics: Section.optional(),
  regression_metrics: Section.optional(),
  modeldrop: z.object({
    task: z.enum(TASKS),
    target: z.string().nullish(),
    classes: z.array(z.string()).nullish(),
    test_rows: z.int().min(0),
    algorithm: z.string(),
    model_info: z
      .object({ libraries: z.record(z.string(), z.string()).optional() })
      .loose()
      .nullish(),
    leaderboard: z
      .object({
        metric: z.string(),
        winner: z.string(),
        why: z.string(),
        candidates: z.array(
          z
            .object({
              algorithm: z.string(),
              score: z.number().nullable(),
              std: z.number().nullish(),
              method: z.string(),
              hyperparameters: z.record(z.string(), z.unknown()),
              trials: z.int(),
              stopped_by: z.enum(["trials", "budget"]),
              seconds: z.number().nullish(),
            })
            .loose(),
        ),
        ensemble: z
          .object({
            score: z.number(),
            weights: z.record(z.string(), z.number()),
            chosen: z.boolean(),
          })
          .nullish(),
      })
      .loose()
      .nullish()
      .describe("the select job's leaderboard.json, as evaluate copies it"),
  }),
});
export type Evaluation = z.infer<typeof Evaluation>;

export type MetricName = (typeof METRICS)[number];

const LOWER_IS_BETTER = new Set<MetricName>(["log_loss", "rmse", "mae"]);

/** The gate a run gets when its options name no metric or threshold. */
const DEFAULT_GATE: Record<
  Evaluation["modeldrop"]["task"],
  { metric: MetricName; threshold: number }
> = {
  binary: { metric: DEFAULT_METRIC.binary, threshold: 0.6 },
  multiclass: { metric: DEFAULT_METRIC.multiclass, threshold: 0.5 },
  image_classification: { metric: DEFAULT_METRIC.image_classification, threshold: 0.5 },
  regression: { metric: DEFAULT_METRIC.regression, threshold: 0.1 },
};

export class EvaluationInvalid extends Error {
  override readonly name = "EvaluationInvalid";
}

export function parseEvaluation(json: unknown): Evaluation {
  const parsed = Evaluation.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "the file";
    throw new EvaluationInvalid(
      `evaluation.json does not have the expected layout: ${where}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** Every `{value}` metric of the evaluation's section, by name. */
export function headlineMetrics(evaluation: Evaluation): Record<string, number> {
  const section =
    evaluation.binary_classification_metrics ??
    evaluation.multiclass_classification_metrics ??
    evaluation.regression_metrics ??
    {};
  const metrics: Record<string, number> = {};
  for (const [name, entry] of Object.entries(section)) {
    const metric = Metric.safeParse(entry);
    if (metric.success) metrics[name] = metric.data.value;
  }
  return metrics;
}

/**
 * The threshold a metric gets when the options name the metric but no threshold: a floor just
 * above chance for scores in [0, 1]. Errors (rmse, mae) are in the target's units, so they have
 * none; the options schema refuses them without a threshold (see parseRunOptions).
 */
export const METRIC_THRESHOLDS: Partial<Record<MetricName, number>> = {
  accuracy: 0.5,
  precision: 0.5,
  recall: 0.5,
  f1: 0.5,
  roc_auc: 0.6,
  log_loss: 0.69,
  r2: 0.1,
};

export function decideGate(evaluation: Evaluation, options: RunOptions): Gate {
  const task = evaluation.modeldrop.task;
  const metric = options.metric ?? DEFAULT_GATE[task].metric;
  const threshold =
    options.threshold ??
    (options.metric ? METRIC_THRESHOLDS[options.metric] : undefined) ??
    DEFAULT_GATE[task].threshold;
  // Intake refused impossible thresholds it could check; an inferred task is known only now.
  const impossible = impossibleThreshold(metric, threshold);
  if (impossible) throw new InvalidOptions("threshold", impossible);
  const value = headlineMetrics(evaluation)[metric];
  if (value === undefined)
    throw new EvaluationInvalid(
      `the quality-gate metric ${metric} does not apply to a ${task} task; choose one of ${Object.keys(headlineMetrics(evaluation)).join(", ")}`,
    );
  const direction = LOWER_IS_BETTER.has(metric) ? "lower" : "higher";
  const passed = direction === "higher" ? value >= threshold : value <= threshold;
  return { metric, threshold, value, direction, passed };
}

/** The number at a dotted path of a user's evaluation.json, or undefined. */
function valueAt(json: unknown, path: string): unknown {
  let current: unknown = json;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Every metric of a user's evaluation.json in SageMaker's model-quality layout
 * (`<section>.<metric>.value`), by metric name; a name in two sections keeps the first.
 */
export function userMetrics(json: unknown): Record<string, number> {
  const metrics: Record<string, number> = {};
  if (typeof json !== "object" || json === null) return metrics;
  for (const section of Object.values(json)) {
    if (typeof section !== "object" || section === null) continue;
    for (const [name, entry] of Object.entries(section)) {
      const metric = Metric.safeParse(entry);
      if (metric.success && Number.isFinite(metric.data.value) && !(name in metrics))
        metrics[name] = metric.data.value;
    }
  }
  return metrics;
}

/** The gate a user's modeldrop.json sets: the number at its metric path against its threshold. */
export function decideUserGate(
  json: unknown,
  gate: { metric: string; threshold: number; direction: "higher" | "lower" },
): Gate {
  const value = valueAt(json, gate.metric);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    const found = Object.keys(userMetrics(json));
    throw new EvaluationInvalid(
      `evaluation.json has no number at ${gate.metric}, the metric modeldrop.json gates on${value === undefined ? "" : ` (it holds ${JSON.stringify(value).slice(0, 80)})`}; ${found.length ? `its metrics are ${found.join(", ")}` : "it holds no metrics in SageMaker's layout"}`,
    );
  }
  const passed = gate.direction === "higher" ? value >= gate.threshold : value <= gate.threshold;
  return { ...gate, value, passed };
}

/**
 * The run's search as its record keeps it: the select job's leaderboard (camelCase, nulls
 * dropped), the candidates left out, and the budget; undefined for a run without a search.
 */
export function searchSummary(
  evaluation: Evaluation,
  failed: SearchSummary["failed"],
  budgetSeconds: number | undefined,
): SearchSummary | undefined {
  const board = evaluation.modeldrop.leaderboard;
  if (!board) return undefined;
  const candidates = board.candidates.map((c) => ({
    algorithm: c.algorithm,
    score: c.score,
    ...(typeof c.std === "number" ? { std: c.std } : {}),
    method: c.method,
    trials: c.trials,
    stoppedBy: c.stopped_by,
    ...(typeof c.seconds === "number" ? { seconds: c.seconds } : {}),
    hyperparameters: c.hyperparameters,
  }));
  return {
    metric: board.metric,
    winner: board.winner,
    why: board.why,
    ...(budgetSeconds !== undefined ? { budgetSeconds } : {}),
    cutShort: candidates.some((c) => c.stoppedBy === "budget"),
    candidates,
    ...(board.ensemble ? { ensemble: board.ensemble } : {}),
    ...(failed?.length ? { failed } : {}),
  };
}
