/** The run's notes and the inputs that could not be read; only when there are any. */
import { type Html, html, section } from "../html.js";
import type { ReportInputs } from "../inputs.js";

export function notesSection(inputs: ReportInputs): Html | undefined {
  const notes = [...inputs.run.notes, ...(inputs.problems ?? [])];
  if (notes.length === 0) return undefined;
  return section(
    "notes",
    "Notes",
    html`<ul class="notes">${notes.map((note) => html`<li>${note}</li>`)}</ul>`,
  );
}
