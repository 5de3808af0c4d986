/** The model search: every candidate's validation score, what it chose, its time and cost, and why the winner won. */
import type { Run } from "../../run-record.js";
import { candidateStep } from "../../runs.js";
import { num, short, usd } from "../format.js";
import { type Html, html, section } from "../html.js";

/** The step a candidate's training job ran as: its own, or `train` when it was the only one. */
function stepOf(run: Run, algorithm: string): string {
  const step = candidateStep(algorithm);
  return run.steps?.[step] ? step : "train";
}

export function searchSection(run: Run): Html {
  const search = run.search;
  if (!search) return html``;
  const costOf = (step: string) => run.cost?.steps.find((s) => s.step === step);
  const rows = search.candidates.map((candidate, rank) => {
    const step = stepOf(run, candidate.algorithm);
    const cost = costOf(step);
    const chosen =
      search.winner === candidate.algorithm ||
      (search.winner === "ensemble" && (search.ensemble?.weights[candidate.algorithm] ?? 0) > 0);
    const spread = candidate.std === undefined ? "" : ` ± ${num(candidate.std)}`;
    return html`<tr${chosen ? html` class="chosen"` : ""}><td class="number">${rank + 1}</td><th scope="row">${candidate.algorithm}${search.winner === candidate.algorithm ? html` <b>(winner)</b>` : ""}</th><td class="number">${candidate.score === null ? "–" : num(candidate.score)}${spread}</td><td>${candidate.method}</td><td class="number">${candidate.trials}${candidate.stoppedBy === "budget" ? html` <span class="dim">(budget)</span>` : ""}</td><td class="number">${candidate.seconds === undefined ? "–" : `${candidate.seconds.toFixed(1)} s`}</td><td class="number">${cost?.usd == null ? "–" : usd(cost.usd)}</td><td><span class="chips">${Object.entries(candidate.hyperparameters).map(([k, v]) => html`<code>${k}=${short(v)}</code> `)}</span></td></tr>`;
  });
  const ensemble = search.ensemble
    ? html`<p>Weighted ensemble of ${Object.entries(search.ensemble.weights)
        .map(([name, weight]) => `${name} ${Math.round(weight * 100)}%`)
        .join(
          ", ",
        )}: validation ${search.metric} ${num(search.ensemble.score)}, ${search.ensemble.chosen ? "chosen: it beat the best single candidate" : "not chosen: it did not beat the best single candidate"}.</p>`
    : "";
  const failed = (search.failed ?? []).map(
    (left) => html`<li><code>${left.step}</code> failed (${left.error}): ${left.reason}</li>`,
  );
  const cutShort = search.cutShort
    ? html`<p>The search was cut short: a candidate marked <i>(budget)</i> stopped tuning at its share of the ${search.budgetSeconds ?? "?"} s budget. A larger <code>timeBudgetSeconds</code>, or the <code>best</code> preset, searches longer.</p>`
    : "";
  return section(
    "search",
    "Model search",
    html`<p><b>Chosen: ${search.winner}.</b> ${search.why}.</p>
<table class="search"><thead><tr><th class="number">#</th><th>Candidate</th><th class="number">Validation ${search.metric}</th><th>Compared on</th><th class="number">Trials</th><th class="number">Time</th><th class="number">Cost</th><th>Hyperparameters chosen</th></tr></thead><tbody>${rows}</tbody></table>
${ensemble}${cutShort}${failed.length > 0 ? html`<p>Left out:</p><ul>${failed}</ul>` : ""}
<p class="caption">Every candidate is scored on validation rows only (cross-validation over train + validation on small tables), never on the test split; the metrics at the top of the page are the chosen model's on the test split, after it was refit on train + validation. Time is each candidate job's search and refit; cost is its billed training time.</p>`,
  );
}
