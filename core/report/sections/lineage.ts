/** Where the model came from: the dataset version, the code, images, libraries and artifacts. */
import { type Html, html, type Part, section, table } from "../html.js";
import type { ReportInputs } from "../inputs.js";

export function lineageSection(inputs: ReportInputs): Html {
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
