/** Why the run failed: the step, the error, the reason and where its log is; only on failure. */
import type { Run } from "../../run-record.js";
import { type Html, html, type Part, table } from "../html.js";

export function failureSection(run: Run): Html | undefined {
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
