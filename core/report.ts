/**
 * The run report: one self-contained HTML page (plots inlined) that says what happened, what
 * was inferred, how good the model is, what it cost and, on failure, why.
 */
import { duration } from "./notice.js";
import type { Run } from "./run-record.js";

export interface ReportInputs {
  run: Run;
  /** profile.json from preprocess, when it ran. */
  profile?: Record<string, unknown>;
  /** PNG plots from evaluate, by file name. */
  plots?: Record<string, Buffer>;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function table(rows: [string, string][]): string {
  const body = rows
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  return `<table>${body}</table>`;
}

function inferences(profile: Record<string, unknown> | undefined): string {
  const list = Array.isArray(profile?.inferences) ? profile.inferences : [];
  if (list.length === 0) return "";
  const items = list
    .map((entry) => {
      const e = entry as Record<string, unknown>;
      const value = typeof e.value === "string" ? e.value : JSON.stringify(e.value);
      return `<li><b>${escapeHtml(String(e.what))}</b>: ${escapeHtml(value)} — ${escapeHtml(String(e.why))}</li>`;
    })
    .join("");
  return `<h2>What modeldrop inferred</h2><ul>${items}</ul>`;
}

export function renderReport({ run, profile, plots = {} }: ReportInputs): string {
  const summary: [string, string][] = [
    ["Run", run.id],
    ["Status", run.status],
    ["Dataset", `s3://${run.dataset.bucket}/${run.dataset.key} (version ${run.dataset.versionId})`],
    ["Started", run.createdAt],
  ];
  if (run.endedAt) {
    summary.push(["Ended", run.endedAt]);
    summary.push([
      "Duration",
      duration((Date.parse(run.endedAt) - Date.parse(run.createdAt)) / 1000),
    ]);
  }
  if (run.model) {
    const version =
      run.model.version === undefined
        ? "not registered"
        : `version ${run.model.version} (${run.model.approval})`;
    summary.push(["Model", `${run.model.name}, ${version}`]);
  }
  if (run.predictions) summary.push(["Predictions", run.predictions]);

  const sections = [`<h1>modeldrop run ${escapeHtml(run.id)}</h1>`, table(summary)];
  if (run.failure) {
    const rows: [string, string][] = [
      ["Step", run.failure.step],
      ["Error", run.failure.error],
      ["Reason", run.failure.reason],
    ];
    if (run.failure.log)
      rows.push([
        "Log",
        `${run.failure.log.group}, streams starting ${run.failure.log.streamPrefix}`,
      ]);
    sections.push(`<h2 class="failed">Why it failed</h2>${table(rows)}`);
  }
  if (run.gate)
    sections.push(
      `<h2>Quality gate</h2>${table([
        ["Metric", run.gate.metric],
        ["Value", run.gate.value.toFixed(4)],
        ["Threshold", `${run.gate.direction === "higher" ? "≥" : "≤"} ${run.gate.threshold}`],
        ["Result", run.gate.passed ? "passed" : "not met"],
      ])}`,
    );
  if (run.metrics)
    sections.push(
      `<h2>Test metrics</h2>${table(Object.entries(run.metrics).map(([k, v]) => [k, v.toFixed(4)]))}`,
    );
  sections.push(inferences(profile));
  if (run.steps) {
    const rows = Object.entries(run.steps).map(([step, t]): [string, string] => [
      step,
      `${t.job ?? ""} ${t.instanceType ?? ""} ${t.seconds === undefined ? "" : duration(t.seconds)}`.trim(),
    ]);
    sections.push(`<h2>Timeline</h2>${table(rows)}`);
  }
  if (run.cost) {
    const rows = run.cost.steps.map((s): [string, string] => [
      s.step,
      `${s.instanceType}, ${s.seconds} s: ${s.usd === null ? "not in the price table" : `$${s.usd.toFixed(4)}`}`,
    ]);
    rows.push([
      "Total",
      `$${run.cost.totalUsd.toFixed(4)} (SageMaker only; prices of ${run.cost.priceTable.date}, ${run.cost.priceTable.region})`,
    ]);
    sections.push(`<h2>Cost</h2>${table(rows)}`);
  }
  if (run.lineage) {
    const rows: [string, string][] = [];
    if (run.lineage.codeSha256) rows.push(["Code", run.lineage.codeSha256]);
    if (run.lineage.algorithm) rows.push(["Algorithm", run.lineage.algorithm]);
    for (const [job, image] of Object.entries(run.lineage.images ?? {}))
      rows.push([`Image (${job})`, image]);
    for (const [lib, version] of Object.entries(run.lineage.libraries ?? {}))
      rows.push([lib, version]);
    sections.push(`<h2>Lineage</h2>${table(rows)}`);
  }
  const images = Object.entries(plots)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, png]) =>
        `<figure><img alt="${escapeHtml(name)}" src="data:image/png;base64,${png.toString("base64")}"><figcaption>${escapeHtml(name)}</figcaption></figure>`,
    )
    .join("");
  if (images) sections.push(`<h2>Plots</h2>${images}`);
  for (const note of run.notes) sections.push(`<p class="note">${escapeHtml(note)}</p>`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>modeldrop ${escapeHtml(run.id)}: ${escapeHtml(run.status)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.failed{color:#b00}figure{display:inline-block;margin:.5rem}img{max-width:28rem}</style>
</head><body>
${sections.filter(Boolean).join("\n")}
</body></html>
`;
}
