/**
 * Start a training run: upload a file (a presigned POST into inbox/, which starts the run as a
 * drop does) or pick an object already in the inbox (POST /runs), with the options form.
 */
import { type FormEvent, useEffect, useState } from "react";
import { csvHeader, postFile } from "../files.js";
import { href, type Location, navigate } from "../hooks.js";
import { type OptionValues, optionsFrom } from "../options.js";
import { OptionsForm } from "../options-form.js";
import { useSession } from "../session.js";
import { described, ErrorNote, Field, fieldErrors, UploadProgress } from "../ui.js";

const SOURCES = [
  ["upload", "Upload a file (CSV, Parquet, or a ZIP of images)"],
  ["inbox", "A file already in the inbox"],
] as const;

/** How long to look for the run an upload started (the inbox event is asynchronous). */
const FIND_RUN_MS = 60_000;

export function StartPage({ location }: { location: Location }) {
  const { client } = useSession();
  const [source, setSource] = useState<(typeof SOURCES)[number][0]>("upload");
  const [file, setFile] = useState<File>();
  const [columns, setColumns] = useState<string[]>([]);
  const [inboxKey, setInboxKey] = useState("");
  const [inbox, setInbox] = useState<{ key: string; name: string; size: number }[]>();
  const [code, setCode] = useState<string[]>([]);
  const [values, setValues] = useState<OptionValues>(() => {
    const name = location.query.get("code");
    const version = location.query.get("version");
    return name ? { "code.name": name, ...(version ? { "code.version": version } : {}) } : {};
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [progress, setProgress] = useState<number>();
  const [stage, setStage] = useState<string>();

  useEffect(() => {
    client.get("listCode", { query: { limit: 100 } }).then(
      (page) => setCode(page.code.map((c) => c.name)),
      () => setCode([]),
    );
  }, [client]);
  useEffect(() => {
    if (source !== "inbox" || inbox) return;
    client.get("listInbox", { query: { limit: 100 } }).then(
      (page) => setInbox(page.objects),
      (failure: unknown) => setError(failure),
    );
  }, [client, source, inbox]);

  async function pick(chosen: File | undefined) {
    setFile(chosen);
    setColumns(chosen ? await csvHeader(chosen) : []);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setError(undefined);
    const options = optionsFrom(values);
    try {
      if (source === "inbox") {
        setStage("starting the run");
        const accepted = await client.get("startRun", {
          body: { input: inboxKey, ...(options ? { options } : {}) },
        });
        return navigate(href(["runs", accepted.id]));
      }
      if (!file) return setErrors({ fileName: "fileName: choose a file to upload" });
      setStage("asking for an upload");
      const upload = await client.get("createUpload", {
        body: {
          fileName: file.name,
          size: file.size,
          purpose: "train",
          ...(options ? { options } : {}),
        },
      });
      setStage("uploading");
      const versionId = await postFile(upload, file, setProgress);
      setStage("waiting for the run to start");
      navigate(href(["runs", await findRun(file.name, versionId)]));
    } catch (failure) {
      const atFields = fieldErrors(failure);
      if (atFields) setErrors(atFields);
      else setError(failure);
    } finally {
      setStage(undefined);
    }
  }

  /** The run the inbox event made for this exact object version. */
  async function findRun(name: string, versionId: string | undefined): Promise<string> {
    const deadline = Date.now() + FIND_RUN_MS;
    while (Date.now() < deadline) {
      const page = await client.get("listRuns", {
        query: { dataset: name, kind: "train", limit: 10 },
      });
      const run = page.runs.find((r) => r.dataset.versionId === versionId) ?? undefined;
      if (run) return run.id;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(
      `the upload is stored (inbox/${name}${versionId ? `, version ${versionId}` : ""}) but no run started within a minute; look at Runs`,
    );
  }

  const fileError = errors.fileName ?? errors.size;
  const fileHelp = columns.length > 0 ? `columns: ${columns.join(", ")}`.slice(0, 300) : undefined;
  return (
    <>
      <h1>Start a run</h1>
      <form onSubmit={submit} noValidate className="start">
        <fieldset className="group">
          <legend>Dataset</legend>
          {SOURCES.map(([name, text]) => (
            <Field key={name} id={`source-${name}`} label={text} check>
              <input
                type="radio"
                id={`source-${name}`}
                name="source"
                checked={source === name}
                onChange={() => setSource(name)}
              />
            </Field>
          ))}
          {source === "upload" ? (
            <Field id="dataset-file" label="Dataset file" help={fileHelp} error={fileError}>
              <input
                {...described("dataset-file", fileHelp, fileError)}
                type="file"
                accept=".csv,.parquet,.zip"
                onChange={(e) => pick(e.target.files?.[0])}
              />
            </Field>
          ) : (
            <Field id="dataset-inbox" label="Inbox object" error={errors.input}>
              <select
                {...described("dataset-inbox", undefined, errors.input)}
                value={inboxKey}
                onChange={(e) => setInboxKey(e.target.value)}
              >
                <option value="">{inbox ? "(choose one)" : "loading…"}</option>
                {(inbox ?? []).map((object) => (
                  <option key={object.key} value={object.key}>
                    {object.key} ({object.size} bytes)
                  </option>
                ))}
              </select>
            </Field>
          )}
        </fieldset>
        <fieldset className="group">
          <legend>Options</legend>
          <p className="help">Leave any field empty to let modeldrop infer it.</p>
          <OptionsForm
            values={values}
            errors={errors}
            choices={{ columns, code }}
            onChange={(path, value) => setValues((old) => ({ ...old, [path]: value }))}
          />
        </fieldset>
        {Object.keys(errors).length > 0 && (
          <p className="error-note" role="alert">
            {Object.values(errors).join("; ")}
          </p>
        )}
        <ErrorNote error={error} />
        {stage === "uploading" ? (
          <UploadProgress fraction={progress} />
        ) : (
          stage && <p aria-live="polite">{stage}</p>
        )}
        <button type="submit" disabled={stage !== undefined}>
          Start training
        </button>
      </form>
    </>
  );
}
