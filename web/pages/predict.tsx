/**
 * Batch predictions: pick a model and version, upload rows (a presigned POST into inputs/),
 * start POST /predictions, follow the run, and show the first rows of the result.
 */
import { type FormEvent, useEffect, useState } from "react";
import { isTerminal } from "../../core/runs.js";
import { firstLines, postFile } from "../files.js";
import { href, type Location, usePoll } from "../hooks.js";
import { useSession } from "../session.js";
import { described, ErrorNote, Field, fieldErrors, StatusBadge, UploadProgress } from "../ui.js";

const SHOWN_ROWS = 20;

export function PredictPage({ location }: { location: Location }) {
  const { client } = useSession();
  const models = usePoll("listModels", { query: { limit: 100 } }, { until: () => true });
  const [model, setModel] = useState(location.query.get("model") ?? "");
  const detail = usePoll("getModel", model ? { params: { name: model } } : undefined, {
    until: () => true,
  });
  const [version, setVersion] = useState("");
  const [file, setFile] = useState<File>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [progress, setProgress] = useState<number>();
  const [busy, setBusy] = useState(false);
  const [runId, setRunId] = useState<string>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setError(undefined);
    if (!file) return setErrors({ fileName: "fileName: choose a file of rows to predict" });
    setBusy(true);
    try {
      const upload = await client.get("createUpload", {
        body: { fileName: file.name, size: file.size, purpose: "predict" },
      });
      const versionId = await postFile(upload, file, setProgress);
      const accepted = await client.get("startPrediction", {
        body: {
          modelName: model,
          ...(version ? { version: Number(version) } : {}),
          input: upload.key,
          ...(versionId ? { versionId } : {}),
        },
      });
      setRunId(accepted.id);
    } catch (failure) {
      const atFields = fieldErrors(failure);
      if (atFields) setErrors(atFields);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const fileError = errors.fileName ?? errors.size ?? errors.input;
  return (
    <>
      <h1>Predictions</h1>
      <form onSubmit={submit} noValidate className="start">
        <Field id="predict-model" label="Model" error={errors.modelName}>
          <select
            {...described("predict-model", undefined, errors.modelName)}
            value={model}
            onChange={(e) => {
              setModel(e.target.value);
              setVersion("");
            }}
          >
            <option value="">{models.data ? "(choose a model)" : "loading…"}</option>
            {(models.data?.models ?? []).map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="predict-version" label="Version" error={errors.version}>
          <select
            {...described("predict-version", undefined, errors.version)}
            value={version}
            onChange={(e) => setVersion(e.target.value)}
          >
            <option value="">the newest Approved version</option>
            {(detail.data?.versions ?? []).map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version} ({v.approval})
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="predict-file"
          label="Rows to predict (CSV or Parquet, the training columns without the target)"
          error={fileError}
        >
          <input
            {...described("predict-file", undefined, fileError)}
            type="file"
            accept=".csv,.parquet,.jsonl,.json"
            onChange={(e) => setFile(e.target.files?.[0])}
          />
        </Field>
        <ErrorNote error={error} />
        {busy && <UploadProgress fraction={progress} />}
        <button type="submit" disabled={busy || !model}>
          Run inference
        </button>
      </form>
      {runId && <PredictionRun id={runId} />}
    </>
  );
}

function PredictionRun({ id }: { id: string }) {
  const run = usePoll("getRun", { params: { id } }, { until: (r) => isTerminal(r.status) });
  const r = run.data;
  return (
    <section aria-labelledby="prediction-title">
      <h2 id="prediction-title">
        Run <a href={href(["runs", id])}>{id}</a> {r && <StatusBadge status={r.status} />}
      </h2>
      <ErrorNote error={run.error} />
      {r?.step && !isTerminal(r.status) && <p aria-live="polite">step: {r.step}</p>}
      {r?.failure && (
        <p className="error-note">
          {r.failure.step}: {r.failure.reason}
        </p>
      )}
      {r?.links.predictions?.files?.map((file) => (
        <PredictionRows key={file.uri} name={file.name} url={file.url} />
      ))}
    </section>
  );
}

/** The first rows of a predictions file (JSON lines, one object per input row). */
export function PredictionRows({ name, url }: { name: string; url: string }) {
  const [rows, setRows] = useState<{ records: Record<string, unknown>[]; truncated: boolean }>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    firstLines(url, SHOWN_ROWS).then(
      ({ lines, truncated }) =>
        setRows({ records: lines.map((line) => flatten(JSON.parse(line))), truncated }),
      setError,
    );
  }, [url]);
  const columns = [...new Set(rows?.records.flatMap((record) => Object.keys(record)) ?? [])];
  return (
    <>
      <ErrorNote error={error} />
      {rows && (
        <table className="predictions">
          <caption>
            The first {rows.records.length} predictions of <span className="mono">{name}</span>
            {rows.truncated ? " (more in the file)" : ""}.{" "}
            <a href={url} download={name}>
              Download {name}
            </a>
          </caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              {columns.map((column) => (
                <th scope="col" key={column}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.records.map((record, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
              <tr key={i}>
                <th scope="row">{i + 1}</th>
                {columns.map((column) => (
                  <td key={column}>{show(record[column])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** `{"probabilities": {"yes": 0.9}}` → `{"probabilities.yes": 0.9}` (one level is enough). */
function flatten(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { value };
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value))
    if (typeof inner === "object" && inner !== null && !Array.isArray(inner))
      for (const [k, v] of Object.entries(inner)) out[`${key}.${k}`] = v;
    else out[key] = inner;
  return out;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(4);
  return typeof value === "string" ? value : JSON.stringify(value);
}
