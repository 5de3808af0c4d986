/** How long each step took: bars from the run's start to its end and a table of the jobs. */
import { duration } from "../../notice.js";
import type { Run, StepTiming } from "../../run-record.js";
import { clock, when, width } from "../format.js";
import { emptySection, type Html, html, section } from "../html.js";

/** The SageMaker jobs, in pipeline order. */
export const JOB_ORDER = ["preprocess", "train", "select", "evaluate", "transform"];

export function timelineSection(run: Run): Html {
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
