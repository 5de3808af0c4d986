/**
 * The run options: the one schema every entry point (REST body, object metadata, sidecar file)
 * and every ML job validates against. The JSON Schema the Python jobs read is generated from this
 * file (`npm run schema`), and a unit test fails when the committed copy drifts.
 */
import { z } from "zod";
import presets from "../ml/modeldrop_ml/presets.json" with { type: "json" };

export const TASKS = ["binary", "multiclass", "regression", "image_classification"] as const;
export const ALGORITHMS = [
  "xgboost",
  "lightgbm",
  "random_forest",
  "extra_trees",
  "linear",
  "resnet18",
] as const;
export const PRESETS = ["fast", "balanced", "best"] as const;
export const METRICS = [
  "accuracy",
  "precision",
  "recall",
  "f1",
  "roc_auc",
  "log_loss",
  "rmse",
  "mae",
  "r2",
] as const;

/** The values each metric can take, so a gate's threshold can be checked before a run starts. */
const METRIC_RANGES: Record<(typeof METRICS)[number], { min?: number; max?: number }> = {
  accuracy: { min: 0, max: 1 },
  precision: { min: 0, max: 1 },
  recall: { min: 0, max: 1 },
  f1: { min: 0, max: 1 },
  roc_auc: { min: 0, max: 1 },
  log_loss: { min: 0 },
  rmse: { min: 0 },
  mae: { min: 0 },
  r2: { max: 1 },
};

/** The metric a task's gate uses when the options name none (see core/evaluation.ts). */
export const DEFAULT_METRIC: Record<(typeof TASKS)[number], (typeof METRICS)[number]> = {
  binary: "roc_auc",
  multiclass: "accuracy",
  image_classification: "accuracy",
  regression: "r2",
};

const REGRESSION_METRICS = new Set<string>(["rmse", "mae", "r2"]);

/** Whether a metric is one the task's evaluation reports. */
function metricFitsTask(metric: (typeof METRICS)[number], task: (typeof TASKS)[number]) {
  return REGRESSION_METRICS.has(metric) === (task === "regression");
}

/** `[0, 1]`, `>= 0`, `<= 1`: a metric's range as a person reads it. */
function describeRange(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return `[${range.min}, ${range.max}]`;
  if (range.min !== undefined) return `>= ${range.min}`;
  return `<= ${range.max}`;
}

/**
 * Why a threshold cannot be met or cannot fail for the metric it gates, or undefined when it is
 * possible. A threshold outside the metric's range would let every model through (roc_auc >= -5)
 * or none (accuracy >= 2).
 */
export function impossibleThreshold(
  metric: (typeof METRICS)[number],
  threshold: number,
): string | undefined {
  const range = METRIC_RANGES[metric];
  const below = range.min !== undefined && threshold < range.min;
  const above = range.max !== undefined && threshold > range.max;
  if (!below && !above) return undefined;
  return `option threshold: ${threshold} is outside the range of ${metric}, ${describeRange(range)}`;
}

const columnName = z.string().min(1).max(256);
const instanceType = z
  .string()
  .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, "must be a SageMaker instance type such as ml.m5.xlarge");

/**
 * Hyperparameters by name. Each lists the algorithms it applies to (`algorithms` in the JSON
 * Schema); the training job rejects one that does not apply rather than ignoring it silently.
 */
function appliesTo(algorithms: readonly (typeof ALGORITHMS)[number][], description: string) {
  return { description: `${algorithms.join(", ")}: ${description}`, algorithms: [...algorithms] };
}

export const Hyperparameters = z.strictObject({
  seed: z.int().min(0).max(2_147_483_647).optional().meta(appliesTo(ALGORITHMS, "random seed")),
  num_round: z
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm"], "most boosting rounds")),
  early_stopping_rounds: z
    .int()
    .min(1)
    .max(1_000)
    .optional()
    .meta(
      appliesTo(
        ["xgboost", "lightgbm"],
        "stop after this many rounds without a better validation score",
      ),
    ),
  max_depth: z
    .int()
    .min(1)
    .max(64)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm", "random_forest", "extra_trees"], "deepest tree")),
  learning_rate: z
    .number()
    .gt(0)
    .max(10)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm", "resnet18"], "step size (eta for xgboost)")),
  subsample: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm"], "row sample per tree")),
  colsample_bytree: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm"], "column sample per tree")),
  min_child_weight: z
    .number()
    .min(0)
    .max(1_000_000)
    .optional()
    .meta(appliesTo(["xgboost"], "smallest hessian sum in a leaf")),
  reg_lambda: z
    .number()
    .min(0)
    .max(1_000_000)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm"], "L2 penalty")),
  reg_alpha: z
    .number()
    .min(0)
    .max(1_000_000)
    .optional()
    .meta(appliesTo(["xgboost", "lightgbm"], "L1 penalty")),
  n_estimators: z
    .int()
    .min(1)
    .max(5_000)
    .optional()
    .meta(appliesTo(["random_forest", "extra_trees"], "number of trees")),
  min_samples_leaf: z
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .meta(appliesTo(["lightgbm", "random_forest", "extra_trees"], "fewest rows in a leaf")),
  num_leaves: z
    .int()
    .min(2)
    .max(131_072)
    .optional()
    .meta(appliesTo(["lightgbm"], "most leaves in a tree")),
  max_features: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .meta(
      appliesTo(["random_forest", "extra_trees"], "share of the features each split considers"),
    ),
  regularization: z
    .number()
    .gt(0)
    .max(1_000_000)
    .optional()
    .meta(appliesTo(["linear"], "L2 strength (logistic C = 1 / regularization, ridge alpha)")),
  epochs: z
    .int()
    .min(1)
    .max(1_000)
    .optional()
    .meta(appliesTo(["resnet18"], "passes over the data")),
  batch_size: z
    .int()
    .min(1)
    .max(4_096)
    .optional()
    .meta(appliesTo(["resnet18"], "images per step")),
  image_size: z
    .int()
    .min(16)
    .max(1_024)
    .optional()
    .meta(appliesTo(["resnet18"], "square input side in pixels")),
});

/** A registered code version, by name (and number; the newest when absent). */
export const CodeReference = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, "must be 1-63 letters, digits and hyphens"),
  version: z.int().min(1).optional().describe("default: the newest version"),
});
export type CodeReference = z.infer<typeof CodeReference>;

export const RunOptions = z.strictObject({
  target: columnName.optional().describe("column to predict; inferred when absent"),
  task: z.enum(TASKS).optional().describe("inferred from the target when absent"),
  modelName: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, "must be 1-63 letters, digits and hyphens")
    .optional()
    .describe("registry name; a slug of the file name when absent"),
  algorithm: z
    .enum(ALGORITHMS)
    .optional()
    .describe(
      "train this one candidate (still tuned within the budget); tables search several when absent, images use resnet18",
    ),
  preset: z
    .enum(PRESETS)
    .optional()
    .describe(
      "how hard to search: fast (2 candidates, defaults only), balanced (the default: 4 candidates, tuned, ensembled), best (5 candidates, a long search)",
    ),
  timeBudgetSeconds: z
    .int()
    .min(10)
    .max(86_400)
    .optional()
    .describe("wall-clock budget of the whole search; the preset's when absent (60, 120, 900 s)"),
  maxParallelJobs: z
    .int()
    .min(1)
    .max(20)
    .optional()
    .describe(
      "candidate training jobs run at once (bounded by the deployment's limit and, locally, the cores)",
    ),
  hyperparameters: Hyperparameters.optional(),
  ignoreColumns: z.array(columnName).max(1_000).optional().describe("columns never used"),
  split: z
    .strictObject({
      validation: z.number().min(0.05).max(0.4).optional(),
      test: z.number().min(0.05).max(0.4).optional(),
      seed: z.int().min(0).max(2_147_483_647).optional(),
    })
    .optional()
    .describe("fractions of rows held out; defaults 0.15 / 0.15, seed 42"),
  instanceTypes: z
    .strictObject({
      processing: instanceType.optional(),
      training: instanceType.optional(),
      transform: instanceType.optional(),
    })
    .optional(),
  maxRuntimeSeconds: z
    .strictObject({
      processing: z.int().min(1).max(432_000).optional(),
      training: z.int().min(1).max(432_000).optional(),
      transform: z.int().min(1).max(432_000).optional(),
    })
    .optional()
    .describe(
      "stop a job that runs longer (SageMaker MaxRuntimeInSeconds); defaults 1 h, 24 h, 1 h",
    ),
  metric: z.enum(METRICS).optional().describe("quality-gate metric; by task when absent"),
  threshold: z.number().optional().describe("quality-gate threshold for the metric"),
  manualApproval: z.boolean().optional().describe("register as Pending instead of Approved"),
  pretrainedWeights: z
    .string()
    .min(1)
    .max(1_024)
    .optional()
    .describe("resnet18: S3 key of a state-dict file to start from instead of random weights"),
  code: CodeReference.optional().describe(
    "run your own scripts: a code version registered with `modeldrop code push` (its modeldrop.json says what runs)",
  ),
  notify: z
    .strictObject({
      email: z.array(z.email()).max(10).optional(),
      slack: z.boolean().optional(),
    })
    .optional(),
});

export type RunOptions = z.infer<typeof RunOptions>;
export type Hyperparameters = z.infer<typeof Hyperparameters>;

/** A run option failed validation; `field` is the dotted path of the first offending option. */
export class InvalidOptions extends Error {
  override readonly name = "InvalidOptions";
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = path ? `${path}.${key}` : key;
    return { field, message: `option ${field} is not a known option` };
  }
  const field = path || "(options)";
  return { field, message: `option ${field}: ${issue.message}` };
}

const MAX_OPTIONS_BYTES = 32 * 1024;

/** In the schema (the jobs share it) but not carried out yet: refused rather than ignored. */
export const NOT_YET_ACCEPTED = ["notify", "pretrainedWeights"] as const;

/** Parses untrusted options, throwing InvalidOptions that names the field at fault. */
export function parseRunOptions(input: unknown): RunOptions {
  const result = RunOptions.safeParse(input);
  if (result.success) {
    const size = Buffer.byteLength(JSON.stringify(result.data));
    // The options travel in the execution input, which Step Functions caps at 256 KiB.
    if (size > MAX_OPTIONS_BYTES)
      throw new InvalidOptions(
        "(options)",
        `the options are ${size} bytes as JSON; at most ${MAX_OPTIONS_BYTES} are accepted`,
      );
    for (const field of NOT_YET_ACCEPTED)
      if (result.data[field] !== undefined)
        throw new InvalidOptions(
          field,
          `option ${field} is not supported yet: notices go to the stack's email and Slack subscribers, and training starts from fresh weights`,
        );
    checkGateOptions(result.data);
    checkHyperparameters(result.data);
    return result.data;
  }
  const first = result.error.issues[0];
  const { field, message } = first
    ? describeIssue(first)
    : { field: "(options)", message: "options are invalid" };
  throw new InvalidOptions(field, message, { cause: result.error });
}

/**
 * The gate's options must describe a gate that can both pass and fail. When no metric is named
 * and the task is inferred later, the threshold must fit every task's default metric; the gate
 * checks it again against the metric it ends up with (decideGate).
 */
function checkGateOptions(options: RunOptions): void {
  const { metric, threshold, task } = options;
  if ((metric === "rmse" || metric === "mae") && threshold === undefined)
    throw new InvalidOptions(
      "threshold",
      `option threshold: the metric ${metric} is in the target's units, so it needs a threshold`,
    );
  if (metric && task && !metricFitsTask(metric, task))
    throw new InvalidOptions(
      "metric",
      `option metric: ${metric} is not reported for a ${task} task; choose one of ${METRICS.filter((m) => metricFitsTask(m, task)).join(", ")}`,
    );
  if (threshold === undefined) return;
  const gated = metric ?? (task ? DEFAULT_METRIC[task] : undefined);
  const candidates = gated ? [gated] : [...new Set(Object.values(DEFAULT_METRIC))];
  for (const candidate of candidates) {
    const problem = impossibleThreshold(candidate, threshold);
    if (problem)
      throw new InvalidOptions(
        "threshold",
        gated
          ? problem
          : `${problem} (with no metric named, the threshold applies to the task's default metric: ${candidates.join(", ")})`,
      );
  }
}

/** The algorithms each hyperparameter applies to (the options schema's `algorithms`). */
export function algorithmsTaking(name: string): string[] {
  const shape: Record<string, z.ZodType> = Hyperparameters.shape;
  const meta = shape[name]?.meta() as { algorithms?: string[] } | undefined;
  return meta?.algorithms ?? [];
}

/**
 * Each pinned hyperparameter must apply to the algorithm named, or, with none named, to one of
 * the preset's candidates or to resnet18 (the dataset's kind is not known yet; a table's run
 * refuses an image-only one when its first candidate starts).
 */
function checkHyperparameters(options: RunOptions): void {
  const preset =
    presets.presets[options.preset ?? (presets.default as keyof typeof presets.presets)];
  const possible = options.algorithm ? [options.algorithm] : [...preset.tabular, "resnet18"];
  for (const name of Object.keys(options.hyperparameters ?? {})) {
    const takes = algorithmsTaking(name);
    if (!possible.some((algorithm) => takes.includes(algorithm)))
      throw new InvalidOptions(
        `hyperparameters.${name}`,
        `option hyperparameters.${name}: does not apply to ${options.algorithm ?? `the ${options.preset ?? presets.default} preset's candidates (${possible.join(", ")})`} (it applies to ${takes.join(", ")})`,
      );
  }
}

/** The JSON Schema the Python jobs validate against (draft 2020-12). */
export function runOptionsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RunOptions, { target: "draft-2020-12", io: "input" }),
    title: "modeldrop run options",
  };
}
