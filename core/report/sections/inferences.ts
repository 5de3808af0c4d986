/** What modeldrop decided about the data and why, after the options the drop gave. */
import type { Run } from "../../run-record.js";
import { short } from "../format.js";
import { type Html, html, missing, section } from "../html.js";
import type { ReportInputs } from "../inputs.js";
import { whyMissing } from "../wording.js";

export function inferencesSection(inputs: ReportInputs): Html {
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
