/** The dataset profile: the file, what was skipped, the target balance and every column. */
import { count, num, percent, short, width } from "../format.js";
import { emptySection, type Html, html, type Part, section, table } from "../html.js";
import type { ColumnProfile, Profile, ReportInputs } from "../inputs.js";
import { TASK_TEXT, whyMissing } from "../wording.js";

function columnSummary(column: ColumnProfile): string {
  if (column.top_values) {
    const top = Object.entries(column.top_values).slice(0, 5);
    const more = Object.keys(column.top_values).length > 5 ? ", …" : "";
    return `${top.map(([value, count]) => `${value} (${num(count)})`).join(", ")}${more}`;
  }
  if (column.min !== undefined && column.max !== undefined) {
    const parts = [`${short(column.min)} – ${short(column.max)}`];
    if (column.mean !== undefined && column.mean !== null) parts.push(`mean ${short(column.mean)}`);
    if (column.std !== undefined && column.std !== null) parts.push(`sd ${short(column.std)}`);
    return parts.join(" · ");
  }
  return "";
}

function balance(profile: Profile): Html | undefined {
  const target = profile.target;
  const counts = target?.balance?.counts;
  if (target && counts && Object.keys(counts).length > 0) {
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    const largest = Math.max(...Object.values(counts));
    const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
    return html`<h3>Target balance: <code>${target.name}</code></h3><div class="bars">${entries.map(
      ([label, count]) =>
        html`<div class="bar-row"><span class="bar-label">${label}</span><span class="track"><span class="fill" style="${width(count / largest)}"></span></span><span class="bar-value">${num(count)} · ${percent(count / total)}</span></div>`,
    )}</div>`;
  }
  const b = target?.balance;
  if (target && b && b.min !== undefined && b.min !== null)
    return html`<h3>Target: <code>${target.name}</code></h3>${table([
      ["Range", `${short(b.min)} – ${short(b.max)}`],
      ["Mean", short(b.mean)],
      ["Standard deviation", short(b.std)],
    ])}`;
  return undefined;
}

export function profileSection(inputs: ReportInputs): Html {
  const { run, profile } = inputs;
  if (!profile)
    return emptySection(
      "profile",
      "Dataset profile",
      whyMissing(run, "dataset profile", "preprocess"),
    );
  const isImages = profile.format === "zip";
  const facts: [Part, Part][] = [];
  if (profile.dataset) facts.push(["File", html`<code>${profile.dataset}</code>`]);
  if (profile.format)
    facts.push([
      "Format",
      [
        profile.format,
        profile.encoding ? `, ${profile.encoding}` : "",
        profile.delimiter ? `, delimiter ${JSON.stringify(profile.delimiter)}` : "",
      ].join(""),
    ]);
  if (profile.rows !== undefined)
    facts.push([
      isImages ? "Images" : "Rows",
      `${num(profile.rows)} read, ${num(profile.rows_used ?? profile.rows)} used`,
    ]);
  if (profile.columns) facts.push(["Columns", num(profile.columns.length)]);
  if (profile.target)
    facts.push([
      "Target",
      html`<code>${profile.target.name}</code>, ${TASK_TEXT[profile.target.task] ?? profile.target.task}${profile.target.classes ? `, ${profile.target.classes.length} classes` : ""}`,
    ]);
  if (profile.splits)
    facts.push([
      "Split",
      `${Object.entries(profile.splits)
        .map(([name, n]) => `${name} ${num(n)}`)
        .join(
          ", ",
        )}${profile.split_settings ? ` (seeded ${profile.split_settings.seed}${profile.target?.task && profile.target.task !== "regression" ? ", stratified" : ""})` : ""}`,
    ]);

  const skipped: Html[] = [];
  if (profile.malformed_rows_skipped)
    skipped.push(
      html`<li>${count(profile.malformed_rows_skipped, "row")} skipped: wrong number of fields.</li>`,
    );
  for (const note of profile.inferences ?? [])
    if (note.what === "unlabelled rows dropped")
      skipped.push(
        html`<li>${typeof note.value === "number" ? count(note.value, "row") : short(note.value)} dropped: ${note.why}.</li>`,
      );
  for (const image of profile.images_skipped ?? [])
    skipped.push(html`<li>Image <code>${image.file}</code> skipped: ${image.reason}.</li>`);
  if (profile.files_ignored && profile.files_ignored.length > 0)
    skipped.push(
      html`<li>${num(profile.files_ignored.length)} files ignored (system clutter such as <code>${profile.files_ignored[0]}</code>).</li>`,
    );
  facts.push([
    "Skipped",
    skipped.length > 0 ? html`<ul class="plain">${skipped}</ul>` : "nothing: every row was used",
  ]);

  const dropReason = new Map<string, string>();
  for (const note of profile.inferences ?? [])
    if (note.what.startsWith("column ") && note.value === "dropped")
      dropReason.set(note.what.slice("column ".length), note.why);
  const columns = profile.columns
    ? html`<h3>Columns</h3><table class="columns"><thead><tr><th>Column</th><th>Type</th><th>Used as</th><th class="number">Missing</th><th class="number">Distinct</th><th>Values</th></tr></thead><tbody>${profile.columns.map(
        (column) =>
          html`<tr class="${column.role === "dropped" ? "dropped" : ""}"><th scope="row"><code>${column.name}</code></th><td>${column.type}</td><td><span class="role ${column.role}">${column.role}</span>${column.role === "dropped" && dropReason.has(column.name) ? html`<div class="dim small">${dropReason.get(column.name)}</div>` : ""}</td><td class="number"><span class="mini track"><span class="fill ${column.missing_pct > 20 ? "warn" : ""}" style="${width(column.missing_pct / 100)}"></span></span> ${column.missing_pct.toFixed(1)} %</td><td class="number">${column.distinct === undefined ? "" : num(column.distinct)}</td><td class="values">${columnSummary(column)}</td></tr>`,
      )}</tbody></table>`
    : "";

  const dropped = [...dropReason.entries()];
  const droppedList =
    dropped.length > 0
      ? html`<h3>Dropped columns</h3><ul class="plain">${dropped.map(([name, why]) => html`<li><code>${name}</code>: ${why}</li>`)}</ul>`
      : "";
  const renamed = Object.entries(profile.renamed_columns ?? {});
  const renamedList =
    renamed.length > 0
      ? html`<h3>Renamed headers</h3><ul class="plain">${renamed.map(([from, to]) => html`<li><code>${from}</code> → <code>${to}</code></li>`)}</ul>`
      : "";
  return section(
    "profile",
    "Dataset profile",
    html`${table(facts)}${balance(profile)}${columns}${droppedList}${renamedList}`,
  );
}
