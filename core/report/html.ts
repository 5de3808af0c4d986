/**
 * Building HTML: every value interpolated by `html` is escaped unless it is already Html, and
 * the blocks every section is made of (a table of facts, a section, an empty section's one line).
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Part = Html | string | number | undefined | null | false | Part[];

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

export function render(part: Part): string {
  if (part === undefined || part === null || part === false) return "";
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? "";
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

export function table(rows: [Part, Part][]): Html {
  return html`<table class="facts"><tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

export function section(id: string, title: string, body: Part): Html {
  return html`<section id="${id}"><h2>${title}</h2>${body}</section>`;
}

/** A section with nothing to show but why: one line, so a run that failed early stays short. */
export function emptySection(id: string, title: string, why: string): Html {
  return html`<section id="${id}" class="empty"><h2>${title}</h2><p class="missing">${why}</p></section>`;
}

export function missing(text: string): Html {
  return html`<p class="missing">${text}</p>`;
}
