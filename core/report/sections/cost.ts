/** What the run's SageMaker jobs cost, per job and in all, and what the figure leaves out. */
import type { Run } from "../../run-record.js";
import { num, usd } from "../format.js";
import { emptySection, type Html, html, section } from "../html.js";
import { JOB_ORDER } from "./timeline.js";

export function costSection(run: Run): Html {
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
