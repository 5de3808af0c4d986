/** The page header: the dataset, the outcome in colour, one sentence of what happened, the key facts. */
import { duration } from "../../notice.js";
import type { Run } from "../../run-record.js";
import { num, usd, when } from "../format.js";
import { type Html, html } from "../html.js";
import type { ReportInputs } from "../inputs.js";
import { STATUS_TEXT, TASK_TEXT } from "../wording.js";

const STATUS_CLASS: Record<Run["status"], string> = {
  QUEUED: "running",
  RUNNING: "running",
  SUCCEEDED: "good",
  BELOW_THRESHOLD: "warn",
  FAILED: "bad",
  STOPPED: "neutral",
};

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

export function header(inputs: ReportInputs): Html {
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
