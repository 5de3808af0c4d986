/** The test metrics against the quality gate, with what each metric means and the confusion matrix. */
import { z } from "zod";
import type { Evaluation } from "../../evaluation.js";
import type { Run } from "../../run-record.js";
import { num } from "../format.js";
import { emptySection, type Html, html, section } from "../html.js";
import type { ReportInputs } from "../inputs.js";
import { whyMissing } from "../wording.js";

const MetricEntry = z.object({ value: z.number(), standard_deviation: z.number().nullish() });
const ConfusionMatrix = z.record(z.string(), z.record(z.string(), z.number()));

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

export function metricsSection(inputs: ReportInputs): Html {
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
