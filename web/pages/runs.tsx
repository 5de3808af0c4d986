/** Runs, newest first: filters in the URL, a page at a time, the visible page kept live. */
import { type FormEvent, useState } from "react";
import { RUN_STATUSES } from "../../core/runs.js";
import { href, type Location, navigate, usePoll } from "../hooks.js";
import { ErrorNote, Loading, runSeconds, StatusBadge, seconds, Time, usd } from "../ui.js";

const FILTERS = ["status", "model", "dataset", "kind"] as const;
const PAGE_SIZE = 25;
const FIRST = "~";

export function RunsPage({ location }: { location: Location }) {
  const filter = Object.fromEntries(
    FILTERS.map((name) => [name, location.query.get(name) ?? undefined]),
  );
  const cursor = location.query.get("cursor") ?? undefined;
  // The cursors of the pages before this one ("~" for the first), so "Previous" goes back
  // without a reverse query; the last 20 are kept, which keeps the URL short.
  const back = location.query.get("back")?.split(".").filter(Boolean) ?? [];
  const runs = usePoll("listRuns", {
    query: { ...filter, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
  });
  const [draft, setDraft] = useState(filter);

  function apply(event: FormEvent) {
    event.preventDefault();
    navigate(href(["runs"], draft));
  }
  const page = (target: string | undefined, previous: string[]) =>
    href(["runs"], {
      ...filter,
      ...(target && target !== FIRST ? { cursor: target } : {}),
      ...(previous.length > 0 ? { back: previous.slice(-20).join(".") } : {}),
    });

  return (
    <>
      <h1>Runs</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter runs">
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={draft.status ?? ""}
            onChange={(e) => setDraft({ ...draft, status: e.target.value || undefined })}
          >
            <option value="">any</option>
            {RUN_STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-kind">Kind</label>
          <select
            id="filter-kind"
            value={draft.kind ?? ""}
            onChange={(e) => setDraft({ ...draft, kind: e.target.value || undefined })}
          >
            <option value="">any</option>
            <option value="train">train</option>
            <option value="predict">predict</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-model">Model</label>
          <input
            id="filter-model"
            value={draft.model ?? ""}
            onChange={(e) => setDraft({ ...draft, model: e.target.value || undefined })}
          />
        </div>
        <div className="field">
          <label htmlFor="filter-dataset">Dataset file</label>
          <input
            id="filter-dataset"
            value={draft.dataset ?? ""}
            onChange={(e) => setDraft({ ...draft, dataset: e.target.value || undefined })}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={runs.error} />
      {!runs.data && !runs.error && <Loading what="runs" />}
      {runs.data && (
        <>
          <table className="runs">
            <caption className="visually-hidden">
              Runs, newest first{cursor ? " (a later page)" : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Step</th>
                <th scope="col">Dataset</th>
                <th scope="col">Model</th>
                <th scope="col">Metric</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.length === 0 && (
                <tr>
                  <td colSpan={9}>No runs match.</td>
                </tr>
              )}
              {runs.data.runs.map((run) => (
                <tr key={run.id}>
                  <td>
                    <a href={href(["runs", run.id])}>{run.id}</a>
                    <span className="kind"> {run.kind}</span>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{run.step ?? "—"}</td>
                  <td>{run.dataset.name}</td>
                  <td>
                    {run.modelName ? (
                      <a href={href(["models", run.modelName])}>
                        {run.modelName}
                        {run.modelVersion ? ` v${run.modelVersion}` : ""}
                      </a>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>{run.metric ? `${run.metric.name} ${run.metric.value.toFixed(4)}` : "—"}</td>
                  <td>
                    <Time at={run.createdAt} />
                  </td>
                  <td>{seconds(run.seconds ?? runSeconds(run))}</td>
                  <td>{usd(run.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav className="pager" aria-label="Pages of runs">
            {cursor ? <a href={page(back.at(-1), back.slice(0, -1))}>Previous page</a> : null}
            {runs.data.next && (
              <a href={page(runs.data.next, [...back, cursor ?? FIRST])}>Next page</a>
            )}
          </nav>
        </>
      )}
    </>
  );
}
