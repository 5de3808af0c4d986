/**
 * The run report: one self-contained HTML page (inline CSS, plots as data: URIs, no external
 * URL, so it works offline and from an email attachment) that says what happened, what was
 * inferred about the data, how good the model is against its gate, how long each step took,
 * what it cost, where it came from and, on failure, why.
 *
 * Pure: the handler fetches the job outputs and passes their bytes; `reportInputs` parses them
 * (an unreadable file becomes a sentence on the page, never a failed report) and `renderReport`
 * draws the page. Every value from a run or a file is escaped: dataset and column names are
 * user input.
 */
import { z } from "zod";
import { type Evaluation, parseEvaluation } from "./evaluation.js";
import { duration } from "./notice.js";
import type { Run, StepTiming } from "./run-record.js";
import { STEPS } from "./runs.js";
import { tarGzMember } from "./tar.js";

// --- inputs ------------------------------------------------------------------------------

const Inference = z.object({ what: z.string(), value: z.unknown(), why: z.string() }).loose();

const ColumnProfile = z
  .object({
    name: z.string(),
    type: z.string(),
    role: z.string(),
    missing_pct: z.number(),
    distinct: z.number().optional(),
    min: z.unknown().optional(),
    max: z.unknown().optional(),
    mean: z.number().nullish(),
    std: z.number().nullish(),
    top_values: z.record(z.string(), z.number()).optional(),
  })
  .loose();

/** profile.json as preprocess writes it (tables and image zips); every field optional. */
export const Profile = z
  .object({
    dataset: z.string().optional(),
    format: z.string().optional(),
    encoding: z.string().nullish(),
    delimiter: z.string().nullish(),
    rows: z.number().optional(),
    rows_used: z.number().optional(),
    malformed_rows_skipped: z.number().optional(),
    renamed_columns: z.record(z.string(), z.string()).optional(),
    images_skipped: z.array(z.object({ file: z.string(), reason: z.string() })).optional(),
    files_ignored: z.array(z.string()).optional(),
    columns: z.array(ColumnProfile).optional(),
    target: z
      .object({
        name: z.string(),
        task: z.string(),
        classes: z.array(z.string()).nullish(),
        balance: z
          .object({
            counts: z.record(z.string(), z.number()).optional(),
            fractions: z.record(z.string(), z.number()).optional(),
            min: z.number().nullish(),
            max: z.number().nullish(),
            mean: z.number().nullish(),
            std: z.number().nullish(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    inferences: z.array(Inference).optional(),
    splits: z.record(z.string(), z.number()).optional(),
    split_settings: z
      .object({ validation: z.number(), test: z.number(), seed: z.number() })
      .loose()
      .optional(),
  })
  .loose();
export type Profile = z.infer<typeof Profile>;

/** history.json from the model artifact: boosting rounds, epochs, or a one-pass score. */
export const TrainingHistory = z
  .object({
    algorithm: z.string().optional(),
    metric: z.string().optional(),
    rounds: z
      .array(z.object({ round: z.number(), train: z.number(), validation: z.number() }))
      .optional(),
    best_round: z.number().optional(),
    best_validation: z.number().optional(),
    epochs: z
      .array(
        z.object({
          epoch: z.number(),
          train_loss: z.number(),
          validation_loss: z.number(),
          validation_accuracy: z.number().optional(),
        }),
      )
      .optional(),
    validation: z.number().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    device: z.string().optional(),
    train_rows: z.number().optional(),
    validation_rows: z.number().optional(),
    pretrained_weights: z.string().nullish(),
  })
  .loose();
export type TrainingHistory = z.infer<typeof TrainingHistory>;

const MetricEntry = z.object({ value: z.number(), standard_deviation: z.number().nullish() });
const ConfusionMatrix = z.record(z.string(), z.record(z.string(), z.number()));

export interface ReportInputs {
  run: Run;
  /** profile.json from preprocess, when it ran. */
  profile?: Profile;
  /** evaluation.json from evaluate, when it ran. */
  evaluation?: Evaluation;
  /** history.json from the training job's model artifact. */
  history?: TrainingHistory;
  /** PNG plots from evaluate, by file name. */
  plots?: Record<string, Buffer>;
  /** Inputs that exist but could not be read, said plainly on the page. */
  problems?: string[];
}

/**
 * The model archive is read for history.json only up to this size, and unpacked in memory only
 * up to MODEL_UNPACKED_LIMIT_BYTES: the report function has 512 MB. A ResNet-18 archive is ~45 MB.
 */
export const MODEL_ARCHIVE_LIMIT_BYTES = 64 * 1024 * 1024;
const MODEL_UNPACKED_LIMIT_BYTES = 160 * 1024 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseJson(text: string, file: string): { json?: unknown; problem?: string } {
  try {
    return { json: JSON.parse(text) };
  } catch (error) {
    return { problem: `${file} is not valid JSON (${messageOf(error)}).` };
  }
}

function parseWith<T>(
  schema: z.ZodType<T>,
  text: string | undefined,
  file: string,
  problems: string[],
): T | undefined {
  if (text === undefined) return undefined;
  const { json, problem } = parseJson(text, file);
  if (problem) {
    problems.push(problem);
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  problems.push(
    `${file} does not have the expected layout (${issue?.path.join(".") || "the file"}: ${issue?.message}).`,
  );
  return undefined;
}

/**
 * The report's inputs from the raw job outputs, each optional: what a run that stopped early
 * lacks is simply absent, and what is present but unreadable becomes a problem sentence.
 */
export function reportInputs(
  run: Run,
  sources: {
    profile?: string;
    evaluation?: string;
    /** The training job's model.tar.gz, which holds history.json. */
    modelArchive?: Buffer;
    plots?: Record<string, Buffer>;
    problems?: string[];
  },
): ReportInputs {
  const problems = [...(sources.problems ?? [])];
  const plots: Record<string, Buffer> = {};
  const inputs: ReportInputs = { run, plots, problems };
  const profile = parseWith(Profile, sources.profile, "profile.json", problems);
  if (profile) inputs.profile = profile;
  if (sources.evaluation !== undefined) {
    const { json, problem } = parseJson(sources.evaluation, "evaluation.json");
    if (problem) problems.push(problem);
    else
      try {
        inputs.evaluation = parseEvaluation(json);
      } catch (error) {
        problems.push(`${messageOf(error)}.`);
      }
  }
  if (sources.modelArchive) {
    let text: string | undefined;
    try {
      text = tarGzMember(
        sources.modelArchive,
        "history.json",
        MODEL_UNPACKED_LIMIT_BYTES,
      )?.toString("utf8");
    } catch (error) {
      problems.push(
        error instanceof RangeError
          ? `The training history was not read: the model archive unpacks past ${MODEL_UNPACKED_LIMIT_BYTES / 2 ** 20} MiB.`
          : `The model archive could not be unpacked (${messageOf(error)}).`,
      );
    }
    const history = parseWith(TrainingHistory, text, "history.json", problems);
    if (history) inputs.history = history;
  }
  for (const [name, png] of Object.entries(sources.plots ?? {})) {
    if (png.subarray(0, 8).equals(PNG_SIGNATURE)) plots[name] = png;
    else problems.push(`The plot ${name} is not a PNG image and is left out.`);
  }
  return inputs;
}

// --- HTML building: every interpolated value is escaped unless it is already Html ---------

class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | undefined | null | false | Part[];

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return "";
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? "";
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

// --- formatting ---------------------------------------------------------------------------

function num(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toFixed(digits);
}

/** A profile statistic or parameter: at most 3 decimals, no trailing zeros. */
function short(value: unknown): string {
  if (typeof value === "number")
    return Number.isFinite(value)
      ? value.toLocaleString("en-US", { maximumFractionDigits: 3 })
      : String(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? "";
}

function count(n: number, noun: string): string {
  return `${num(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)} %`;
}

/** `2026-11-01 10:00:03 UTC` */
function when(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time)
    ? iso
    : `${new Date(time).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `10:00:03`, for the timeline (the date is in the header). */
function clock(iso: string | undefined): string {
  if (!iso) return "—";
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toISOString().slice(11, 19);
}

function usd(value: number): string {
  if (value > 0 && value < 0.0001) return "< $0.0001";
  return value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** A width for an inline bar, as a number only (never user text inside a style attribute). */
function width(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  return `width:${(100 * clamped).toFixed(2)}%`;
}

function table(rows: [Part, Part][]): Html {
  return html`<table class="facts"><tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

function section(id: string, title: string, body: Part): Html {
  return html`<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

/** A section with nothing to show but why: one line, so a run that failed early stays short. */
function emptySection(id: string, title: string, why: string): Html {
  return html`<section id="${id}" class="empty"><h2>${title}</h2><p class="missing">${why}</p></section>`;
}

function missing(text: string): Html {
  return html`<p class="missing">${text}</p>`;
}

// --- what each status means ---------------------------------------------------------------

const STATUS_TEXT: Record<Run["status"], string> = {
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  BELOW_THRESHOLD: "Below threshold",
  FAILED: "Failed",
  STOPPED: "Stopped",
};

const STATUS_CLASS: Record<Run["status"], string> = {
  QUEUED: "running",
  RUNNING: "running",
  SUCCEEDED: "good",
  BELOW_THRESHOLD: "warn",
  FAILED: "bad",
  STOPPED: "neutral",
};

const TASK_TEXT: Record<string, string> = {
  binary: "binary classification",
  multiclass: "multiclass classification",
  regression: "regression",
  image_classification: "image classification",
};

/** Why a piece made by `step` is not on the page, in one sentence. */
function whyMissing(run: Run, what: string, step: "preprocess" | "train" | "evaluate"): string {
  const order = STEPS as readonly string[];
  if (run.failure) {
    const failedAt = order.indexOf(run.failure.step);
    if (failedAt !== -1 && failedAt <= order.indexOf(step))
      return `No ${what}: the run failed at ${run.failure.step}${run.failure.step === step ? "" : `, before ${step} ran`}.`;
    return `No ${what}: the run failed at ${run.failure.step} and ${step}'s output was not found.`;
  }
  if (run.status === "STOPPED") return `No ${what}: the run was stopped before ${step} finished.`;
  if (run.status === "QUEUED" || run.status === "RUNNING")
    return `No ${what} yet: ${step} has not finished.`;
  return `No ${what}: ${step}'s output was not found.`;
}

// --- sections -----------------------------------------------------------------------------

function headline(inputs: ReportInputs): Html {
  const { run, profile, evaluation } = inputs;
  const target = profile?.target?.name ?? evaluation?.modeldrop.target ?? run.options.target;
  const task = profile?.target?.task ?? evaluation?.modeldrop.task ?? run.options.task;
  const algorithm = evaluation?.modeldrop.algorithm ?? run.lineage?.algorithm;
  const parts: string[] = [];
  if (run.status === "FAILED")
    parts.push(`The run failed at ${run.failure?.step ?? run.step ?? "an unknown step"}.`);
  if (run.status === "STOPPED") parts.push("The run was stopped before it finished.");
  if (target || task || algorithm) {
    const rows = profile?.rows_used;
    parts.push(
      [
        algorithm ? `Trained ${algorithm}` : "Learning",
        target ? ` to predict ${target}` : "",
        task ? ` (${TASK_TEXT[task] ?? task})` : "",
        rows !== undefined
          ? ` from ${num(rows)} ${profile?.format === "zip" ? "images" : "rows"}`
          : "",
        ".",
      ].join(""),
    );
  }
  if (run.gate) {
    const sign = run.gate.direction === "higher" ? "≥" : "≤";
    parts.push(
      `${run.gate.metric} ${num(run.gate.value)} ${run.gate.passed ? "met" : "did not meet"} the gate ${sign} ${run.gate.threshold}${run.gate.passed ? "" : ", so the model was not registered"}.`,
    );
  }
  return html`<p class="lede">${parts.join(" ")}</p>`;
}

function header(inputs: ReportInputs): Html {
  const { run } = inputs;
  const statusClass = STATUS_CLASS[run.status];
  const failedAt = run.status === "FAILED" && run.failure ? ` at ${run.failure.step}` : "";
  const model = run.model
    ? html`<b>${run.model.name}</b>${run.model.version === undefined ? html` <span class="dim">not registered</span>` : html` version ${run.model.version}`}`
    : html`<span class="dim">not registered</span>`;
  const approval = run.model?.approval
    ? html`<span class="pill ${run.model.approval === "Approved" ? "good" : run.model.approval === "Rejected" ? "bad" : "warn"}">${run.model.approval}</span>`
    : html`<span class="dim">—</span>`;
  const gate = run.gate
    ? html`${run.gate.metric} ${num(run.gate.value)} <span class="dim">${run.gate.direction === "higher" ? "≥" : "≤"} ${run.gate.threshold}</span> <span class="pill ${run.gate.passed ? "good" : "bad"}">${run.gate.passed ? "passed" : "not met"}</span>`
    : html`<span class="dim">not evaluated</span>`;
  const took = run.endedAt
    ? duration((Date.parse(run.endedAt) - Date.parse(run.createdAt)) / 1000)
    : "still running";
  const cost = run.cost ? usd(run.cost.totalUsd) : "—";
  return html`<header class="top ${statusClass}">
<p class="kicker">modeldrop run report · <code>${run.id}</code></p>
<h1>${run.dataset.name}</h1>
<p class="status"><span class="pill big ${statusClass}">${STATUS_TEXT[run.status]}${failedAt}</span> <span class="dim">${when(run.createdAt)}${run.endedAt ? html` → ${when(run.endedAt)}` : ""}</span></p>
${headline(inputs)}
<dl class="cards">
<div><dt>Model</dt><dd>${model}</dd></div>
<div><dt>Approval</dt><dd>${approval}</dd></div>
<div><dt>Quality gate</dt><dd>${gate}</dd></div>
<div><dt>Duration</dt><dd>${took}</dd></div>
<div><dt>SageMaker cost</dt><dd>${cost}</dd></div>
</dl>
</header>`;
}

function failureSection(run: Run): Html | undefined {
  if (!run.failure) return undefined;
  const { failure } = run;
  const rows: [Part, Part][] = [
    ["Step", html`<b>${failure.step}</b>`],
    ["Error", html`<code>${failure.error}</code>`],
    ["Reason", html`<div class="reason">${failure.reason}</div>`],
  ];
  if (failure.log)
    rows.push([
      "Log",
      html`CloudWatch Logs group <code>${failure.log.group}</code>, streams starting <code>${failure.log.streamPrefix}</code>`,
    ]);
  return html`<section id="failure" class="failure"><h2>Why it failed</h2>${table(rows)}</section>`;
}

const METRIC_MEANING: Record<string, string> = {
  accuracy: "share of test rows predicted right",
  precision: "of the rows predicted positive, the share that are",
  recall: "of the positive rows, the share found",
  f1: "balance of precision and recall",
  weighted_f1: "F1 per class, weighted by class size",
  roc_auc: "ranking quality: 0.5 is chance, 1 is perfect",
  log_loss: "penalises confident mistakes; lower is better",
  rmse: "typical error in the target's units; lower is better",
  mae: "mean absolute error in the target's units; lower is better",
  r2: "share of the variance explained: 1 is perfect, 0 is the mean",
};

interface MetricRow {
  name: string;
  value: number;
  std?: number | null | undefined;
}

function metricRows(inputs: ReportInputs): MetricRow[] {
  const section =
    inputs.evaluation?.binary_classification_metrics ??
    inputs.evaluation?.multiclass_classification_metrics ??
    inputs.evaluation?.regression_metrics;
  if (section) {
    const rows: MetricRow[] = [];
    for (const [name, entry] of Object.entries(section)) {
      const metric = MetricEntry.safeParse(entry);
      if (metric.success)
        rows.push({ name, value: metric.data.value, std: metric.data.standard_deviation });
    }
    if (rows.length > 0) return rows;
  }
  return Object.entries(inputs.run.metrics ?? {}).map(([name, value]) => ({ name, value }));
}

function confusionTable(evaluation: Evaluation | undefined): Html | undefined {
  const section =
    evaluation?.binary_classification_metrics ?? evaluation?.multiclass_classification_metrics;
  const parsed = ConfusionMatrix.safeParse(section?.confusion_matrix);
  if (!parsed.success) return undefined;
  const classes = Object.keys(parsed.data);
  if (classes.length === 0 || classes.length > 12) return undefined;
  const largest = Math.max(
    1,
    ...classes.flatMap((a) => classes.map((p) => parsed.data[a]?.[p] ?? 0)),
  );
  const rows = classes.map(
    (actual) =>
      html`<tr><th scope="row">${actual}</th>${classes.map((predicted) => {
        const count = parsed.data[actual]?.[predicted] ?? 0;
        const shade = Math.round((count / largest) * 60);
        return html`<td class="${actual === predicted ? "diag" : "off"}" style="--shade:${shade}%">${num(count)}</td>`;
      })}</tr>`,
  );
  return html`<figure class="matrix"><table class="confusion"><thead><tr><th class="corner">actual ↓ predicted →</th>${classes.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>${rows}</tbody></table><figcaption>Confusion matrix of the test split: rows are the actual class, columns the predicted one; the diagonal is right.</figcaption></figure>`;
}

function registration(run: Run): string {
  if (!run.gate?.passed) return "the model was not registered";
  if (run.model?.version !== undefined)
    return `the model was registered as version ${run.model.version}`;
  return "the model was not registered (the run ended before it was)";
}

const MACRO_AVERAGED = new Set(["precision", "recall", "f1", "roc_auc"]);

function metricMeaning(name: string, task: string | undefined): string {
  const meaning = METRIC_MEANING[name] ?? "";
  const perClass = task === "multiclass" || task === "image_classification";
  return perClass && MACRO_AVERAGED.has(name) ? `${meaning} (average over classes)` : meaning;
}

function metricsSection(inputs: ReportInputs): Html {
  const { run, evaluation } = inputs;
  const rows = metricRows(inputs);
  if (rows.length === 0 && !run.gate)
    return emptySection(
      "metrics",
      "Metrics and quality gate",
      whyMissing(run, "metrics", "evaluate"),
    );
  const gate = run.gate
    ? html`<div class="gate ${run.gate.passed ? "good" : "bad"}">
<div class="gate-result">${run.gate.passed ? "✔ Gate passed" : "✘ Gate not met"}</div>
<div class="gate-rule"><span class="gate-metric">${run.gate.metric}</span> <span class="gate-value">${num(run.gate.value)}</span> <span class="gate-sign">${run.gate.direction === "higher" ? "≥" : "≤"}</span> threshold <span class="gate-threshold">${run.gate.threshold}</span></div>
<div class="dim">${run.gate.direction === "higher" ? "higher" : "lower"} is better · ${registration(run)}</div>
</div>`
    : html`<p class="missing">No quality gate was decided.</p>`;
  const hasStd = rows.some((row) => row.std !== undefined && row.std !== null);
  const body = rows.map(
    (row) =>
      html`<tr class="${row.name === run.gate?.metric ? "gated" : ""}"><th scope="row">${row.name}${row.name === run.gate?.metric ? html` <span class="pill small ${run.gate?.passed ? "good" : "bad"}">gate</span>` : ""}</th><td class="number">${num(row.value)}</td>${hasStd ? html`<td class="number dim">${row.std === undefined || row.std === null ? "—" : `± ${num(row.std)}`}</td>` : ""}<td class="dim">${metricMeaning(row.name, evaluation?.modeldrop.task)}</td></tr>`,
  );
  const info = evaluation?.modeldrop;
  const positive =
    info?.task === "binary" && info.classes && info.classes.length === 2
      ? ` Positive class: ${info.classes[1]}.`
      : "";
  const caption = info
    ? `On the held-out test split (${num(info.test_rows)} ${info.task === "image_classification" ? "images" : "rows"}).${positive}${hasStd ? " ± is the standard deviation over bootstrap resamples of the test rows." : ""}`
    : "On the held-out test split.";
  return section(
    "metrics",
    "Metrics and quality gate",
    html`${gate}<table class="metrics"><thead><tr><th>Metric</th><th class="number">Value</th>${hasStd ? html`<th class="number">Std dev</th>` : ""}<th>Meaning</th></tr></thead><tbody>${body}</tbody></table><p class="caption">${caption}</p>${confusionTable(evaluation)}`,
  );
}

const PLOT_CAPTIONS: [string, string, string][] = [
  [
    "roc",
    "ROC curve",
    "True-positive rate against false-positive rate on the test split as the decision threshold moves; the dashed diagonal is a coin toss, the area under the curve is roc_auc.",
  ],
  [
    "precision_recall",
    "Precision and recall",
    "Precision against recall on the test split as the decision threshold moves; the legend gives the average precision.",
  ],
  [
    "confusion_matrix",
    "Confusion matrix",
    "Counts of test rows by actual class (rows) and predicted class (columns).",
  ],
  [
    "residuals",
    "Residuals",
    "Actual minus predicted against the prediction on the test split; a good model scatters evenly around zero.",
  ],
  [
    "predicted_vs_actual",
    "Predicted against actual",
    "Each test row's prediction against its true value; points on the dashed diagonal are exact.",
  ],
  [
    "feature_importance",
    "Feature importance",
    "Each input column's share of the model's importance (the top 20).",
  ],
  [
    "training_curve",
    "Training curve",
    "The loss on the train and validation data after each round or epoch; the dashed line marks the best round.",
  ],
];

function figure(name: string, png: Buffer): Html {
  const stem = name.replace(/\.png$/i, "");
  const known = PLOT_CAPTIONS.find(([key]) => key === stem);
  const title = known?.[1] ?? stem;
  const caption = known?.[2] ?? "";
  return html`<figure class="plot" id="plot-${stem.replace(/[^A-Za-z0-9_-]/g, "-")}"><img alt="${title}" src="data:image/png;base64,${png.toString("base64")}"><figcaption><b>${title}.</b> ${caption}</figcaption></figure>`;
}

function orderedPlots(plots: Record<string, Buffer>): [string, Buffer][] {
  const rank = (name: string) => {
    const index = PLOT_CAPTIONS.findIndex(([key]) => `${key}.png` === name);
    return index === -1 ? PLOT_CAPTIONS.length : index;
  };
  return Object.entries(plots).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function plotsSection(inputs: ReportInputs): Html {
  const plots = orderedPlots(inputs.plots ?? {}).filter(([name]) => name !== "training_curve.png");
  if (plots.length === 0)
    return emptySection("plots", "Plots", whyMissing(inputs.run, "plots", "evaluate"));
  return section(
    "plots",
    "Plots",
    html`<div class="plots">${plots.map(([name, png]) => figure(name, png))}</div>`,
  );
}

function trainingSection(inputs: ReportInputs): Html {
  const { run, history, evaluation } = inputs;
  const curve = inputs.plots?.["training_curve.png"];
  const modelInfo = evaluation?.modeldrop.model_info;
  if (!history && !curve && !modelInfo)
    return emptySection("training", "Training", whyMissing(run, "training history", "train"));
  const rows: [Part, Part][] = [];
  const algorithm = history?.algorithm ?? evaluation?.modeldrop.algorithm ?? run.lineage?.algorithm;
  if (algorithm) rows.push(["Algorithm", algorithm]);
  if (history?.rounds && history.rounds.length > 0) {
    const best = history.best_round ?? history.rounds.length;
    rows.push([
      "Rounds",
      `${num(history.rounds.length)} boosting rounds; best round ${num(best)}${history.best_validation === undefined ? "" : ` with validation ${history.metric ?? "score"} ${num(history.best_validation)}`}`,
    ]);
  }
  if (history?.epochs && history.epochs.length > 0) {
    const best = history.epochs.reduce((a, b) => (b.validation_loss < a.validation_loss ? b : a));
    rows.push([
      "Epochs",
      `${num(history.epochs.length)} epochs; best epoch ${num(best.epoch)} with validation loss ${num(best.validation_loss)}${best.validation_accuracy === undefined ? "" : `, accuracy ${num(best.validation_accuracy)}`}`,
    ]);
  }
  if (history?.validation !== undefined)
    rows.push(["Validation score", `${history.metric ?? "score"} ${num(history.validation)}`]);
  if (history?.train_rows !== undefined)
    rows.push([
      "Rows",
      `${num(history.train_rows)} train, ${num(history.validation_rows ?? 0)} validation`,
    ]);
  if (history?.device) rows.push(["Device", history.device]);
  if (history?.pretrained_weights) rows.push(["Started from", history.pretrained_weights]);
  const parameters = history?.parameters ?? modelInfo?.hyperparameters;
  if (parameters && typeof parameters === "object" && Object.keys(parameters).length > 0)
    rows.push([
      "Parameters",
      html`<span class="chips">${Object.entries(parameters).map(([k, v]) => html`<code>${k}=${short(v)}</code> `)}</span>`,
    ]);
  const noCurve =
    history && !history.rounds && !history.epochs
      ? `No training curve: ${algorithm ?? "this algorithm"} trains in one pass.`
      : "No training curve was drawn.";
  return section(
    "training",
    "Training",
    html`${rows.length > 0 ? table(rows) : ""}${curve ? html`<div class="plots single">${figure("training_curve.png", curve)}</div>` : missing(noCurve)}`,
  );
}

function columnSummary(column: z.infer<typeof ColumnProfile>): string {
  if (column.top_values) {
    const top = Object.entries(column.top_values).slice(0, 5);
    const more = Object.keys(column.top_values).length > 5 ? ", …" : "";
    return `${top.map(([value, count]) => `${value} (${num(count)})`).join(", ")}${more}`;
  }
  if (column.min !== undefined && column.max !== undefined) {
    const parts = [`${short(column.min)} – ${short(column.max)}`];
    if (column.mean !== undefined && column.mean !== null) parts.push(`mean ${short(column.mean)}`);
    if (column.std !== undefined && column.std !== null) parts.push(`sd ${short(column.std)}`);
    return parts.join(" · ");
  }
  return "";
}

function balance(profile: Profile): Html | undefined {
  const target = profile.target;
  const counts = target?.balance?.counts;
  if (target && counts && Object.keys(counts).length > 0) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    const largest = Math.max(...Object.values(counts));
    const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
    return html`<h3>Target balance: <code>${target.name}</code></h3><div class="bars">${entries.map(
      ([label, count]) =>
        html`<div class="bar-row"><span class="bar-label">${label}</span><span class="track"><span class="fill" style="${width(count / largest)}"></span></span><span class="bar-value">${num(count)} · ${percent(count / total)}</span></div>`,
    )}</div>`;
  }
  const b = target?.balance;
  if (target && b && b.min !== undefined && b.min !== null)
    return html`<h3>Target: <code>${target.name}</code></h3>${table([
      ["Range", `${short(b.min)} – ${short(b.max)}`],
      ["Mean", short(b.mean)],
      ["Standard deviation", short(b.std)],
    ])}`;
  return undefined;
}

function profileSection(inputs: ReportInputs): Html {
  const { run, profile } = inputs;
  if (!profile)
    return emptySection(
      "profile",
      "Dataset profile",
      whyMissing(run, "dataset profile", "preprocess"),
    );
  const isImages = profile.format === "zip";
  const facts: [Part, Part][] = [];
  if (profile.dataset) facts.push(["File", html`<code>${profile.dataset}</code>`]);
  if (profile.format)
    facts.push([
      "Format",
      [
        profile.format,
        profile.encoding ? `, ${profile.encoding}` : "",
        profile.delimiter ? `, delimiter ${JSON.stringify(profile.delimiter)}` : "",
      ].join(""),
    ]);
  if (profile.rows !== undefined)
    facts.push([
      isImages ? "Images" : "Rows",
      `${num(profile.rows)} read, ${num(profile.rows_used ?? profile.rows)} used`,
    ]);
  if (profile.columns) facts.push(["Columns", num(profile.columns.length)]);
  if (profile.target)
    facts.push([
      "Target",
      html`<code>${profile.target.name}</code>, ${TASK_TEXT[profile.target.task] ?? profile.target.task}${profile.target.classes ? `, ${profile.target.classes.length} classes` : ""}`,
    ]);
  if (profile.splits)
    facts.push([
      "Split",
      `${Object.entries(profile.splits)
        .map(([name, n]) => `${name} ${num(n)}`)
        .join(
          ", ",
        )}${profile.split_settings ? ` (seeded ${profile.split_settings.seed}${profile.target?.task && profile.target.task !== "regression" ? ", stratified" : ""})` : ""}`,
    ]);

  const skipped: Html[] = [];
  if (profile.malformed_rows_skipped)
    skipped.push(
      html`<li>${count(profile.malformed_rows_skipped, "row")} skipped: wrong number of fields.</li>`,
    );
  for (const note of profile.inferences ?? [])
    if (note.what === "unlabelled rows dropped")
      skipped.push(
        html`<li>${typeof note.value === "number" ? count(note.value, "row") : short(note.value)} dropped: ${note.why}.</li>`,
      );
  for (const image of profile.images_skipped ?? [])
    skipped.push(html`<li>Image <code>${image.file}</code> skipped: ${image.reason}.</li>`);
  if (profile.files_ignored && profile.files_ignored.length > 0)
    skipped.push(
      html`<li>${num(profile.files_ignored.length)} files ignored (system clutter such as <code>${profile.files_ignored[0]}</code>).</li>`,
    );
  facts.push([
    "Skipped",
    skipped.length > 0 ? html`<ul class="plain">${skipped}</ul>` : "nothing: every row was used",
  ]);

  const dropReason = new Map<string, string>();
  for (const note of profile.inferences ?? [])
    if (note.what.startsWith("column ") && note.value === "dropped")
      dropReason.set(note.what.slice("column ".length), note.why);
  const columns = profile.columns
    ? html`<h3>Columns</h3><table class="columns"><thead><tr><th>Column</th><th>Type</th><th>Used as</th><th class="number">Missing</th><th class="number">Distinct</th><th>Values</th></tr></thead><tbody>${profile.columns.map(
        (column) =>
          html`<tr class="${column.role === "dropped" ? "dropped" : ""}"><th scope="row"><code>${column.name}</code></th><td>${column.type}</td><td><span class="role ${column.role}">${column.role}</span>${column.role === "dropped" && dropReason.has(column.name) ? html`<div class="dim small">${dropReason.get(column.name)}</div>` : ""}</td><td class="number"><span class="mini track"><span class="fill ${column.missing_pct > 20 ? "warn" : ""}" style="${width(column.missing_pct / 100)}"></span></span> ${column.missing_pct.toFixed(1)} %</td><td class="number">${column.distinct === undefined ? "" : num(column.distinct)}</td><td class="values">${columnSummary(column)}</td></tr>`,
      )}</tbody></table>`
    : "";

  const dropped = [...dropReason.entries()];
  const droppedList =
    dropped.length > 0
      ? html`<h3>Dropped columns</h3><ul class="plain">${dropped.map(([name, why]) => html`<li><code>${name}</code>: ${why}</li>`)}</ul>`
      : "";
  const renamed = Object.entries(profile.renamed_columns ?? {});
  const renamedList =
    renamed.length > 0
      ? html`<h3>Renamed headers</h3><ul class="plain">${renamed.map(([from, to]) => html`<li><code>${from}</code> → <code>${to}</code></li>`)}</ul>`
      : "";
  return section(
    "profile",
    "Dataset profile",
    html`${table(facts)}${balance(profile)}${columns}${droppedList}${renamedList}`,
  );
}

function inferencesSection(inputs: ReportInputs): Html {
  const { run, profile } = inputs;
  const notes = profile?.inferences ?? [];
  const given = Object.entries(run.options).filter(([, value]) => value !== undefined);
  const source: Record<Run["optionsSource"], string> = {
    metadata: "the object's metadata (x-amz-meta-*)",
    sidecar: "a sidecar .modeldrop.json file",
    request: "the API request",
    none: "nowhere",
  };
  const options =
    given.length > 0
      ? html`<p>Options from ${source[run.optionsSource]}: <span class="chips">${given.map(([k, v]) => html`<code>${k}=${short(v)}</code> `)}</span></p>`
      : html`<p>No options were given${notes.length > 0 ? "; everything below was inferred" : ""}.</p>`;
  const list =
    notes.length > 0
      ? html`<table class="inferences"><thead><tr><th>What</th><th>Decided</th><th>Why</th></tr></thead><tbody>${notes.map(
          (note) =>
            html`<tr><th scope="row">${note.what}</th><td><code>${short(note.value)}</code></td><td>${note.why}</td></tr>`,
        )}</tbody></table>`
      : missing(
          profile
            ? "preprocess recorded no inferences."
            : whyMissing(run, "inferences", "preprocess"),
        );
  return section("inferences", "What modeldrop decided, and why", html`${options}${list}`);
}

const JOB_ORDER = ["preprocess", "train", "evaluate", "transform"];

function timelineSection(run: Run): Html {
  const steps = Object.entries(run.steps ?? {}).sort(
    ([a, x], [b, y]) =>
      Date.parse(x.startedAt) - Date.parse(y.startedAt) ||
      JOB_ORDER.indexOf(a) - JOB_ORDER.indexOf(b),
  );
  const failedUntimed =
    run.failure && !run.steps?.[run.failure.step] ? run.failure.step : undefined;
  if (steps.length === 0 && !failedUntimed)
    return emptySection(
      "timeline",
      "Timeline",
      "No step timings were recorded: no SageMaker job finished.",
    );
  const start = Date.parse(run.createdAt);
  const ends = steps.map(([, t]) => Date.parse(t.endedAt ?? t.startedAt));
  const end = Math.max(run.endedAt ? Date.parse(run.endedAt) : start, ...ends, start + 1000);
  const span = end - start;
  const secondsOf = (t: StepTiming) =>
    t.seconds ?? (t.endedAt ? (Date.parse(t.endedAt) - Date.parse(t.startedAt)) / 1000 : 0);
  const bars = steps.map(([step, t]) => {
    const left = (Date.parse(t.startedAt) - start) / span;
    const size = Math.max(secondsOf(t) * 1000, span * 0.004) / span;
    return html`<div class="bar-row"><span class="bar-label">${step}</span><span class="track"><span class="fill step" style="margin-left:${(100 * Math.min(1, Math.max(0, left))).toFixed(2)}%;${width(Math.min(size, 1 - Math.max(0, left)))}"></span></span><span class="bar-value">${duration(secondsOf(t))}</span></div>`;
  });
  const rows = steps.map(
    ([step, t]) =>
      html`<tr><th scope="row">${step}</th><td>${clock(t.startedAt)}</td><td>${clock(t.endedAt)}</td><td class="number">${duration(secondsOf(t))}</td><td><code>${t.job ?? ""}</code></td><td>${t.instanceType ?? ""}</td></tr>`,
  );
  if (failedUntimed)
    rows.push(
      html`<tr class="failed-row"><th scope="row">${failedUntimed}</th><td colspan="5">failed; its job time was not recorded</td></tr>`,
    );
  return section(
    "timeline",
    "Timeline",
    html`${bars.length === 0 ? "" : html`<div class="bars timeline">${bars}<div class="axis"><span>${clock(run.createdAt)} start</span><span>${duration(span / 1000)} in all</span></div></div>`}<table class="steps"><thead><tr><th>Step</th><th>Started (UTC)</th><th>Ended</th><th class="number">Took</th><th>Job</th><th>Instance</th></tr></thead><tbody>${rows}</tbody></table>${bars.length === 0 ? "" : html`<p class="caption">Bars run from the run's start (${when(run.createdAt)}) to its end; the gaps are the Lambda steps and job start-up between SageMaker jobs.</p>`}`,
  );
}

function costSection(run: Run): Html {
  if (!run.cost)
    return emptySection(
      "cost",
      "Cost",
      "No cost was recorded: the run has not ended or no job finished.",
    );
  const { cost } = run;
  const failedJob =
    run.failure &&
    JOB_ORDER.includes(run.failure.step) &&
    !cost.steps.some((step) => step.step === run.failure?.step)
      ? ` The failed ${run.failure.step} job is not counted: its times were not recorded, though SageMaker bills it.`
      : "";
  if (cost.steps.length === 0)
    return emptySection(
      "cost",
      "Cost",
      `No SageMaker job finished, so no cost is recorded.${failedJob}`,
    );
  const rows = cost.steps.map(
    (step) =>
      html`<tr><th scope="row">${step.step}</th><td>${step.kind}</td><td>${step.instanceType}</td><td class="number">${num(step.seconds)} s</td><td class="number">${step.usd === null ? html`<span class="dim">not in the price table</span>` : usd(step.usd)}</td></tr>`,
  );
  const unpriced =
    cost.unpriced.length > 0
      ? html` Instance types missing from the price table count as unknown, not zero: <code>${cost.unpriced.join(", ")}</code>.`
      : "";
  return section(
    "cost",
    "Cost",
    html`<table class="cost"><thead><tr><th>Step</th><th>Job kind</th><th>Instance</th><th class="number">Billed</th><th class="number">USD</th></tr></thead><tbody>${rows}</tbody><tfoot><tr><th scope="row">Total</th><td colspan="3"></td><td class="number"><b>${usd(cost.totalUsd)}</b></td></tr></tfoot></table>
<p class="caption">On-demand prices per instance-hour of ${cost.priceTable.date}, ${cost.priceTable.region} (core/prices.json), one instance per job. Training is billed by SageMaker's BillableTimeInSeconds, processing and transform by their start and end times. Not counted: Lambda, Step Functions, S3 requests and storage, CloudWatch Logs and data transfer (cents per thousand runs), nor taxes or discounts.${unpriced}${failedJob}</p>`,
  );
}

function lineageSection(inputs: ReportInputs): Html {
  const { run, evaluation } = inputs;
  const rows: [Part, Part][] = [
    [
      "Dataset",
      html`<code>s3://${run.dataset.bucket}/${run.dataset.key}</code> version <code>${run.dataset.versionId}</code>`,
    ],
  ];
  const lineage = run.lineage ?? {};
  if (lineage.codeSha256) rows.push(["Code (sha256)", html`<code>${lineage.codeSha256}</code>`]);
  const algorithm = lineage.algorithm ?? evaluation?.modeldrop.algorithm;
  if (algorithm) rows.push(["Algorithm", algorithm]);
  for (const [job, image] of Object.entries(lineage.images ?? {}))
    rows.push([`Image (${job})`, html`<code>${image}</code>`]);
  const libraries = lineage.libraries ?? evaluation?.modeldrop.model_info?.libraries ?? {};
  if (Object.keys(libraries).length > 0)
    rows.push([
      "Libraries",
      html`<span class="chips">${Object.entries(libraries).map(([lib, version]) => html`<code>${lib} ${version}</code> `)}</span>`,
    ]);
  if (run.model?.artifact) rows.push(["Model artifact", html`<code>${run.model.artifact}</code>`]);
  if (run.predictions) rows.push(["Predictions", html`<code>${run.predictions}</code>`]);
  if (run.executionArn) rows.push(["Execution", html`<code>${run.executionArn}</code>`]);
  if (run.retryOf) rows.push(["Retry of", html`<code>${run.retryOf}</code>`]);
  if (run.report) rows.push(["This report", html`<code>${run.report}</code>`]);
  return section("lineage", "Lineage", table(rows));
}

function notesSection(inputs: ReportInputs): Html | undefined {
  const notes = [...inputs.run.notes, ...(inputs.problems ?? [])];
  if (notes.length === 0) return undefined;
  return section(
    "notes",
    "Notes",
    html`<ul class="notes">${notes.map((note) => html`<li>${note}</li>`)}</ul>`,
  );
}

const STYLE = `
:root{--good:#1a7f37;--good-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--bad:#cf222e;--bad-bg:#ffebe9;--neutral:#57606a;--neutral-bg:#eaeef2;--running:#0969da;--running-bg:#ddf4ff;--line:#d0d7de;--dim:#57606a;--bar:#0969da}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#f6f8fa;margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
code{font:0.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff1f3;padding:0 .25em;border-radius:4px;overflow-wrap:anywhere}
h1{font-size:2rem;margin:.1rem 0 .4rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:0 0 .75rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:1.25rem 0 .5rem}
section,header.top{background:#fff;border:1px solid var(--line);border-radius:10px;padding:1.1rem 1.3rem;margin:0 0 1rem}
header.top{border-top:6px solid var(--neutral)}
header.top.good{border-top-color:var(--good)}header.top.warn{border-top-color:var(--warn)}header.top.bad{border-top-color:var(--bad)}header.top.running{border-top-color:var(--running)}
.kicker{margin:0;color:var(--dim);font-size:.85rem}
.lede{font-size:1.05rem;margin:.5rem 0 1rem}
.dim{color:var(--dim)}.small{font-size:.82rem}
.pill{display:inline-block;padding:.05rem .6rem;border-radius:999px;font-weight:600;font-size:.85rem;background:var(--neutral-bg);color:var(--neutral)}
.pill.big{font-size:1rem;padding:.15rem .8rem}.pill.small{font-size:.72rem;padding:0 .45rem}
.good.pill{background:var(--good-bg);color:var(--good)}.warn.pill{background:var(--warn-bg);color:var(--warn)}.bad.pill{background:var(--bad-bg);color:var(--bad)}.running.pill{background:var(--running-bg);color:var(--running)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.6rem;margin:0}
.cards div{border:1px solid var(--line);border-radius:8px;padding:.5rem .75rem;background:#fbfcfd}
.cards dt{font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;color:var(--dim)}.cards dd{margin:.1rem 0 0;overflow-wrap:anywhere}
nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem;margin:0 0 1rem;font-size:.9rem}nav a{color:var(--running);text-decoration:none}
table{border-collapse:collapse;width:100%;margin:.25rem 0 .5rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #eaeef2}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--dim);border-bottom:1px solid var(--line)}
table.facts th{width:11rem;color:var(--dim);font-weight:500}
td.number,th.number{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.values{font-size:.88rem;color:#3d444d;overflow-wrap:anywhere}
tr.gated{background:#f6f8fa}tr.gated th{font-weight:700}
tr.dropped th code,tr.dropped td{color:var(--dim)}tr.dropped th code{text-decoration:line-through}
tr.failed-row th,tr.failed-row td{color:var(--bad)}
tfoot th,tfoot td{border-top:2px solid var(--line);border-bottom:0}
.role{font-size:.8rem;padding:0 .4rem;border-radius:4px;background:#eaeef2}
.role.target{background:var(--running-bg);color:var(--running);font-weight:600}.role.dropped{background:var(--bad-bg);color:var(--bad)}
.gate{border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;border:1px solid}
.gate.good{background:var(--good-bg);border-color:#aceebb}.gate.bad{background:var(--bad-bg);border-color:#ffcecb}
.gate-result{font-weight:700;font-size:1.1rem}.gate.good .gate-result{color:var(--good)}.gate.bad .gate-result{color:var(--bad)}
.gate-rule{font-size:1.25rem;margin:.2rem 0}.gate-metric{font-weight:600}.gate-value{font-weight:700;font-variant-numeric:tabular-nums}
.caption{color:var(--dim);font-size:.88rem;margin:.25rem 0 .5rem}
.missing{color:var(--dim);font-style:italic;margin:.25rem 0}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
.plots.single{grid-template-columns:minmax(0,36rem)}
figure{margin:0}figure.plot{border:1px solid #eaeef2;border-radius:8px;padding:.5rem;background:#fff}
figure.plot img{display:block;width:100%;height:auto}
figcaption{font-size:.86rem;color:#3d444d;margin-top:.35rem}
figure.matrix{margin:1rem 0 0;max-width:36rem}
table.confusion{width:auto}table.confusion td{text-align:center;min-width:4rem;font-variant-numeric:tabular-nums}
table.confusion td.diag{background:color-mix(in srgb,var(--good) var(--shade),#fff)}table.confusion td.off{background:color-mix(in srgb,var(--bad) var(--shade),#fff)}
th.corner{font-size:.72rem;text-transform:none}
.bars{margin:.25rem 0 1rem}.bar-row{display:grid;grid-template-columns:9rem 1fr 9rem;gap:.6rem;align-items:center;margin:.25rem 0}
.bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar-value{font-variant-numeric:tabular-nums;color:var(--dim);font-size:.88rem}
.track{display:block;height:.9rem;background:#eaeef2;border-radius:4px;overflow:hidden}
.fill{display:block;height:100%;background:var(--bar);border-radius:4px}.fill.warn{background:var(--warn)}.fill.step{background:#8250df}
.mini.track{display:inline-block;width:3rem;height:.5rem;vertical-align:middle}
.timeline .axis{display:flex;justify-content:space-between;margin-left:9.6rem;margin-right:9.6rem;color:var(--dim);font-size:.8rem}
.chips code{display:inline-block;margin:0 .25rem .25rem 0}
ul.plain{margin:.25rem 0;padding-left:1.1rem}
section.empty{padding:.6rem 1.3rem}section.empty h2{display:inline;font-size:1.05rem;border:0;margin:0 .75rem 0 0;padding:0}section.empty p.missing{display:inline}
section.failure{border-color:#ffcecb;background:#fffafa}section.failure h2{color:var(--bad);border-color:#ffcecb}
.reason{white-space:pre-wrap;font-weight:500}
ul.notes li{margin:.2rem 0}
footer{color:var(--dim);font-size:.8rem;text-align:center}
@media print{body{background:#fff}section,header.top{break-inside:avoid}nav{display:none}}
`;

export function renderReport(inputs: ReportInputs): string {
  const { run } = inputs;
  const nav: [string, string][] = [
    ...(run.failure ? ([["failure", "Failure"]] as [string, string][]) : []),
    ["metrics", "Metrics"],
    ["plots", "Plots"],
    ["training", "Training"],
    ["profile", "Dataset"],
    ["inferences", "Decisions"],
    ["timeline", "Timeline"],
    ["cost", "Cost"],
    ["lineage", "Lineage"],
  ];
  const notes = notesSection(inputs);
  if (notes) nav.push(["notes", "Notes"]);
  const body = html`${header(inputs)}
<nav>${nav.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</nav>
${failureSection(run)}
${metricsSection(inputs)}
${plotsSection(inputs)}
${trainingSection(inputs)}
${profileSection(inputs)}
${inferencesSection(inputs)}
${timelineSection(run)}
${costSection(run)}
${lineageSection(inputs)}
${notes}
<footer>Generated by modeldrop for run <code>${run.id}</code> · self-contained: no external resources.</footer>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="modeldrop-run" content="${render(run.id)}">
<meta name="modeldrop-status" content="${render(run.status)}">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${render(`modeldrop: ${run.dataset.name} · ${STATUS_TEXT[run.status]}`)}</title>
<style>${STYLE}</style>
</head><body><main>
${body.text}
</main></body></html>
`;
}
