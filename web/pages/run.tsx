/**
 * One run, live: the step timeline, the running job's progress and log tail, metrics with the
 * gate, the search's leaderboard, plots, the report, the failure and its log, cancel and retry.
 */
import { useEffect, useState } from "react";
import { isTerminal, JOB_STEPS, STEPS } from "../../core/runs.js";
import { type AnswerOf, ApiProblem, TokenRefused } from "../api.js";
import { href, navigate, usePoll } from "../hooks.js";
import { useSession } from "../session.js";
import {
  describe,
  ErrorNote,
  Loading,
  runSeconds,
  StatusBadge,
  seconds,
  Time,
  usd,
} from "../ui.js";
import { PredictionRows } from "./predict.js";

type Run = AnswerOf<"getRun">;

export function RunPage({ id }: { id: string }) {
  const run = usePoll(
    "getRun",
    { params: { id } },
    // A finished run changes once more, when its notice goes out; then it is final.
    { until: (r) => isTerminal(r.status) && r.notifiedAt !== undefined },
  );
  if (run.error && !run.data)
    return (
      <>
        <h1>Run {id}</h1>
        <ErrorNote error={run.error} />
      </>
    );
  if (!run.data) return <Loading what={`run ${id}`} />;
  const r = run.data;
  return (
    <>
      <h1>
        Run <span className="mono">{r.id}</span> <StatusBadge status={r.status} />
      </h1>
      <ErrorNote error={run.error} />
      <Summary run={r} />
      <Actions run={r} onChange={run.refresh} />
      {r.failure && <FailureBox run={r} />}
      <Timeline run={r} />
      <LogTail run={r} />
      {r.metrics && <Metrics run={r} />}
      {r.search && <Leaderboard search={r.search} />}
      <Outputs run={r} />
      {r.kind === "predict" &&
        r.links.predictions?.files?.map((file) => (
          <PredictionRows key={file.uri} name={file.name} url={file.url} />
        ))}
    </>
  );
}

function Summary({ run }: { run: Run }) {
  return (
    <dl className="facts">
      <dt>Kind</dt>
      <dd>{run.kind}</dd>
      <dt>Dataset</dt>
      <dd>
        {run.dataset.name} <span className="muted">({run.dataset.key})</span>
      </dd>
      <dt>Model</dt>
      <dd>
        {run.model?.version ? (
          <a href={href(["models", run.model.name])}>
            {run.model.name}
            {run.model.version ? ` v${run.model.version}` : ""}
            {run.model.approval ? ` (${run.model.approval})` : ""}
          </a>
        ) : (
          `${run.modelName ?? "—"} (no version registered)`
        )}
      </dd>
      <dt>Started</dt>
      <dd>
        <Time at={run.createdAt} />
      </dd>
      <dt>Duration</dt>
      <dd>{seconds(runSeconds(run))}</dd>
      <dt>Cost</dt>
      <dd>
        {usd(run.cost?.totalUsd)}
        {run.cost && (
          <span className="muted">
            {" "}
            (SageMaker prices of {run.cost.priceTable.date}, {run.cost.priceTable.region})
          </span>
        )}
      </dd>
      {run.code && (
        <>
          <dt>Code</dt>
          <dd>
            <a href={href(["code", run.code.name])}>
              {run.code.name} v{run.code.version}
            </a>
          </dd>
        </>
      )}
      {run.retryOf && (
        <>
          <dt>Retry of</dt>
          <dd>
            <a href={href(["runs", run.retryOf])}>{run.retryOf}</a>
          </dd>
        </>
      )}
      <dt>Options</dt>
      <dd>
        <code>{JSON.stringify(run.options)}</code>{" "}
        <span className="muted">({run.optionsSource})</span>
      </dd>
      {run.notes.length > 0 && (
        <>
          <dt>Notes</dt>
          <dd>
            <ul>
              {run.notes.map((note) => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          </dd>
        </>
      )}
      <dt>Notice</dt>
      <dd>
        {run.notifiedAt ? (
          <>
            sent <Time at={run.notifiedAt} />
          </>
        ) : (
          "not yet"
        )}
      </dd>
    </dl>
  );
}

function Actions({ run, onChange }: { run: Run; onChange: () => void }) {
  const { client } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  async function act(action: "cancelRun" | "retryRun") {
    setBusy(true);
    setError(undefined);
    try {
      const accepted = await client.get(action, { params: { id: run.id } });
      if (action === "retryRun") navigate(href(["runs", accepted.id]));
      else onChange();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  const terminal = isTerminal(run.status);
  return (
    <div className="actions">
      {!terminal && (
        <button type="button" disabled={busy} onClick={() => act("cancelRun")}>
          Cancel run
        </button>
      )}
      {terminal && run.kind === "train" && (
        <button type="button" disabled={busy} onClick={() => act("retryRun")}>
          Retry run
        </button>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

function FailureBox({ run }: { run: Run }) {
  const failure = run.failure;
  if (!failure) return null;
  return (
    <section className="failure" aria-labelledby="failure-title">
      <h2 id="failure-title">Why it failed</h2>
      <p>
        <strong>{failure.step}</strong>: {failure.error}
      </p>
      <pre className="reason">{failure.reason}</pre>
      {failure.log && (
        <p className="muted">
          Log: CloudWatch group <code>{failure.log.group}</code>, streams{" "}
          <code>{failure.log.streamPrefix}*</code> (the log below shows its tail)
        </p>
      )}
    </section>
  );
}

/**
 * The recorded steps in the order they started, and the current step (a search's candidate
 * jobs, say) until its own record lands.
 */
function timelineSteps(run: Run): [string, Run["steps"][string]][] {
  const steps = Object.entries(run.steps).sort(
    ([, a], [, b]) => Date.parse(a.startedAt ?? "") - Date.parse(b.startedAt ?? "") || 0,
  );
  if (run.step && !isTerminal(run.status) && !(run.step in run.steps)) steps.push([run.step, {}]);
  if (run.failure && !(run.failure.step in run.steps)) steps.push([run.failure.step, {}]);
  return steps;
}

/** Steps whose job has a log: the recorded ones and the one running now. */
function logSteps(run: Run): string[] {
  const steps = Object.entries(run.steps)
    .filter(([, step]) => step.job)
    .map(([name]) => name);
  if (run.step && !isTerminal(run.status) && !steps.includes(run.step) && runsJob(run.step))
    steps.push(run.step);
  return steps;
}

/** Built-in steps such as copy-input or register run no job; a candidate or user step does. */
function runsJob(step: string): boolean {
  const builtIn: readonly string[] = STEPS;
  const jobs: readonly string[] = JOB_STEPS;
  return !builtIn.includes(step) || jobs.includes(step);
}

function Timeline({ run }: { run: Run }) {
  const steps = timelineSteps(run);
  const progress = run.progress;
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Steps</h2>
      <ol className="timeline">
        {steps.map(([name, step]) => {
          const running = !step.endedAt && !isTerminal(run.status);
          const failed = run.failure?.step === name;
          return (
            <li
              key={name}
              className={running ? "running" : failed ? "failed" : step.endedAt ? "done" : ""}
            >
              <span className="step-name">{name}</span>{" "}
              <span className="muted">
                {running ? "running" : failed ? "failed" : step.endedAt ? "done" : "not run"}
                {step.seconds !== undefined ? `, ${seconds(step.seconds)}` : ""}
                {step.instanceType ? `, ${step.instanceType}` : ""}
              </span>
              {running && progress && name.startsWith(progress.step) && (
                <div className="progress">
                  <progress
                    max={progress.total || 1}
                    value={progress.done}
                    aria-label={`${name} progress`}
                  />{" "}
                  {progress.message}
                </div>
              )}
            </li>
          );
        })}
        {steps.length === 0 && <li>{run.status === "QUEUED" ? "Queued…" : "No step yet."}</li>}
      </ol>
    </section>
  );
}

type LogEvent = AnswerOf<"getRunLogs">["events"][number];
const MAX_LOG_LINES = 400;

/** Follows the running (or last) job's log with the API's cursor. */
function LogTail({ run }: { run: Run }) {
  const { client, signOut } = useSession();
  const jobSteps = logSteps(run);
  const [chosen, setChosen] = useState<string>();
  const live = !isTerminal(run.status);
  const current = live && run.step && jobSteps.includes(run.step) ? run.step : jobSteps.at(-1);
  const step = chosen && jobSteps.includes(chosen) ? chosen : current;
  const [events, setEvents] = useState<LogEvent[]>([]);
  const [job, setJob] = useState<string>();
  const [note, setNote] = useState<string>();
  const hasJob = step !== undefined;

  useEffect(() => {
    if (!step || !hasJob) return;
    const stop = new AbortController();
    setEvents([]);
    setNote(undefined);
    (async () => {
      let cursor: string | undefined;
      while (!stop.signal.aborted) {
        try {
          const page = await client.get("getRunLogs", {
            params: { id: run.id },
            query: { step, limit: 500, ...(cursor ? { cursor } : {}) },
            signal: stop.signal,
          });
          cursor = page.next;
          setJob(page.job);
          if (page.events.length > 0)
            setEvents((old) => [...old, ...page.events].slice(-MAX_LOG_LINES));
          setNote(undefined);
          if (page.events.length === 500) continue;
        } catch (failure) {
          if (stop.signal.aborted) return;
          if (failure instanceof TokenRefused) return signOut(failure.message);
          setNote(
            failure instanceof ApiProblem && failure.status === 404
              ? "no log yet"
              : describe(failure),
          );
        }
        if (!live) return;
        await new Promise((resolve) => setTimeout(resolve, document.hidden ? 30_000 : 2_000));
      }
    })();
    return () => stop.abort();
  }, [client, run.id, step, live, hasJob, signOut]);

  if (jobSteps.length === 0) return null;
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Log</h2>
      <div className="field inline">
        <label htmlFor="log-step">Job</label>
        <select id="log-step" value={step} onChange={(e) => setChosen(e.target.value)}>
          {jobSteps.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        {job && <span className="muted mono"> {job}</span>}
      </div>
      {note && <p className="muted">{note}</p>}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to be scrolled by keyboard */}
      <pre className="log" role="log" aria-label={`log of ${step ?? "the job"}`} tabIndex={0}>
        {events.map((event) => event.message).join("\n") || "(empty)"}
      </pre>
    </section>
  );
}

function Metrics({ run }: { run: Run }) {
  const gate = run.gate;
  return (
    <section aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      {gate && (
        <p className={gate.passed ? "gate-passed" : "gate-failed"}>
          Quality gate {gate.passed ? "passed" : "not passed"}: {gate.metric} ={" "}
          {gate.value.toFixed(4)} ({gate.direction === "higher" ? "at least" : "at most"}{" "}
          {gate.threshold} required)
        </p>
      )}
      <table>
        <caption className="visually-hidden">Test-set metrics</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(run.metrics ?? {}).map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{value.toFixed(4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Leaderboard({ search }: { search: NonNullable<Run["search"]> }) {
  return (
    <section aria-labelledby="search-title">
      <h2 id="search-title">Model search</h2>
      <p>
        Chosen: <strong>{search.winner}</strong>. {search.why}
        {search.cutShort && " The time budget cut the search short."}
      </p>
      <table>
        <caption className="visually-hidden">Candidates on validation ({search.metric})</caption>
        <thead>
          <tr>
            <th scope="col">Candidate</th>
            <th scope="col">{search.metric}</th>
            <th scope="col">Method</th>
            <th scope="col">Trials</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {search.candidates.map((c) => (
            <tr key={c.algorithm}>
              <th scope="row">{c.algorithm}</th>
              <td>
                {c.score === null ? "—" : c.score.toFixed(4)}
                {c.std !== undefined && ` ± ${c.std.toFixed(4)}`}
              </td>
              <td>{c.method}</td>
              <td>{c.trials}</td>
              <td>{seconds(c.seconds)}</td>
            </tr>
          ))}
          {search.ensemble && (
            <tr>
              <th scope="row">ensemble</th>
              <td>{search.ensemble.score.toFixed(4)}</td>
              <td colSpan={3}>{search.ensemble.chosen ? "chosen" : "not better"}</td>
            </tr>
          )}
        </tbody>
      </table>
      {search.failed && search.failed.length > 0 && (
        <ul>
          {search.failed.map((f) => (
            <li key={f.step}>
              Left out {f.step}: {f.reason}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Outputs({ run }: { run: Run }) {
  const links = run.links;
  const plots = links.plots ?? [];
  const entries = (
    [
      ["report", "Report (HTML)"],
      ["evaluation", "evaluation.json"],
      ["model", "Model artifact"],
    ] as const
  ).filter(([name]) => links[name]);
  const predictions = links.predictions?.files ?? [];
  if (entries.length === 0 && plots.length === 0 && predictions.length === 0) return null;
  return (
    <section aria-labelledby="outputs-title">
      <h2 id="outputs-title">Outputs</h2>
      <ul className="links">
        {entries.map(([name, text]) => {
          const link = links[name];
          return (
            <li key={name}>
              {link?.url ? (
                <a href={link.url} target="_blank" rel="noopener noreferrer">
                  {text}
                </a>
              ) : (
                text
              )}{" "}
              <span className="muted mono">{link?.uri}</span>
            </li>
          );
        })}
        {predictions.map((file) => (
          <li key={file.uri}>
            <a href={file.url} download={file.name}>
              Predictions: {file.name}
            </a>{" "}
            <span className="muted mono">{file.uri}</span>
          </li>
        ))}
      </ul>
      {plots.length > 0 && (
        <div className="plots">
          {plots.map((plot) => (
            <figure key={plot.name}>
              <img
                src={plot.url}
                alt={`${plot.name.replace(/\.png$/, "").replaceAll("_", " ")} plot`}
              />
              <figcaption>{plot.name}</figcaption>
            </figure>
          ))}
        </div>
      )}
    </section>
  );
}
