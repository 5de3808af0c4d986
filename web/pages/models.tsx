/** The registry: models, their versions with metrics and approval; approve or reject with a reason. */
import { type FormEvent, useState } from "react";
import type { AnswerOf } from "../api.js";
import { href, usePoll } from "../hooks.js";
import { useSession } from "../session.js";
import { ErrorNote, Loading, StatusBadge, Time } from "../ui.js";

export function ModelsPage() {
  const models = usePoll("listModels", { query: { limit: 100 } }, { intervalMs: 5000 });
  return (
    <>
      <h1>Models</h1>
      <ErrorNote error={models.error} />
      {!models.data && !models.error && <Loading what="models" />}
      {models.data && (
        <table>
          <caption className="visually-hidden">Registered models</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Latest version</th>
              <th scope="col">Approved version</th>
            </tr>
          </thead>
          <tbody>
            {models.data.models.length === 0 && (
              <tr>
                <td colSpan={3}>No model yet: a run that passes its gate registers one.</td>
              </tr>
            )}
            {models.data.models.map((model) => (
              <tr key={model.name}>
                <th scope="row">
                  <a href={href(["models", model.name])}>{model.name}</a>
                </th>
                <td>v{model.latestVersion}</td>
                <td>{model.approvedVersion ? `v${model.approvedVersion}` : "none"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

type Version = AnswerOf<"getModel">["versions"][number];

export function ModelPage({ name }: { name: string }) {
  const model = usePoll("getModel", { params: { name } });
  return (
    <>
      <h1>
        Model <span className="mono">{name}</span>
      </h1>
      <ErrorNote error={model.error} />
      {!model.data && !model.error && <Loading what={`model ${name}`} />}
      {model.data && (
        <>
          <p>
            Predictions use{" "}
            {model.data.approvedVersion
              ? `v${model.data.approvedVersion}, the newest Approved version,`
              : "no version until one is approved,"}{" "}
            unless a version is named. <a href={href(["predict"], { model: name })}>Predict</a>
          </p>
          {model.data.deployOnApproval && (
            <p>
              Deploys on approval: each version that becomes the newest Approved one is served on
              its {model.data.deployOnApproval.mode} endpoint (set by{" "}
              {model.data.deployOnApproval.setBy}; turn it off with{" "}
              <span className="mono">modeldrop endpoint on-approval {name} --off</span>).
            </p>
          )}
          {model.data.versions.map((version) => (
            <VersionCard key={version.version} version={version} onDecided={model.refresh} />
          ))}
        </>
      )}
    </>
  );
}

function VersionCard({ version, onDecided }: { version: Version; onDecided: () => void }) {
  const { client } = useSession();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const reasonId = `reason-${version.version}`;

  async function decide(event: FormEvent, action: "approveModel" | "rejectModel") {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.get(action, {
        params: { name: version.modelName, version: version.version },
        body: reason.trim() ? { reason: reason.trim() } : {},
      });
      setReason("");
      onDecided();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby={`version-${version.version}`}>
      <h2 id={`version-${version.version}`}>
        v{version.version} <StatusBadge status={version.approval} />
      </h2>
      <dl className="facts">
        <dt>From run</dt>
        <dd>
          <a href={href(["runs", version.runId])}>{version.runId}</a>
        </dd>
        <dt>Registered</dt>
        <dd>
          <Time at={version.createdAt} />
        </dd>
        <dt>Metrics</dt>
        <dd>
          {Object.entries(version.metrics)
            .map(([metric, value]) => `${metric} ${value.toFixed(4)}`)
            .join(", ") || "—"}
        </dd>
        {version.schema && (
          <>
            <dt>Predicts</dt>
            <dd>
              {version.schema.target} ({version.schema.task}) from {version.schema.features.length}{" "}
              features
            </dd>
          </>
        )}
        {version.schemaChange && (
          <>
            <dt>Schema change</dt>
            <dd>{version.schemaChange}</dd>
          </>
        )}
        {version.decidedBy && (
          <>
            <dt>Decided</dt>
            <dd>
              by {version.decidedBy}, <Time at={version.decidedAt} />
              {version.reason ? `: ${version.reason}` : ""}
            </dd>
          </>
        )}
      </dl>
      <form className="decide" onSubmit={(e) => decide(e, "approveModel")}>
        <div className="field">
          <label htmlFor={reasonId}>Reason (optional)</label>
          <input
            id={reasonId}
            value={reason}
            maxLength={1000}
            onChange={(e) => setReason(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy || version.approval === "Approved"}>
          Approve v{version.version}
        </button>
        <button
          type="button"
          disabled={busy || version.approval === "Rejected"}
          onClick={(e) => decide(e, "rejectModel")}
        >
          Reject v{version.version}
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
