/** Registered code (your own scripts): names, their versions, and a run started with one. */
import { href, usePoll } from "../hooks.js";
import { ErrorNote, Loading, Time } from "../ui.js";

export function CodeListPage() {
  const code = usePoll("listCode", { query: { limit: 100 } }, { intervalMs: 5000 });
  return (
    <>
      <h1>Code</h1>
      <p className="help">
        Your own SageMaker scripts, registered with <code>npx modeldrop code push</code>; a run
        started with one runs its steps instead of the built-in jobs.
      </p>
      <ErrorNote error={code.error} />
      {!code.data && !code.error && <Loading what="code" />}
      {code.data && (
        <table>
          <caption className="visually-hidden">Registered code</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Latest version</th>
            </tr>
          </thead>
          <tbody>
            {code.data.code.length === 0 && (
              <tr>
                <td colSpan={2}>No code registered.</td>
              </tr>
            )}
            {code.data.code.map((c) => (
              <tr key={c.name}>
                <th scope="row">
                  <a href={href(["code", c.name])}>{c.name}</a>
                </th>
                <td>v{c.latestVersion}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function CodePage({ name }: { name: string }) {
  const code = usePoll("getCode", { params: { name } }, { intervalMs: 5000 });
  return (
    <>
      <h1>
        Code <span className="mono">{name}</span>
      </h1>
      <ErrorNote error={code.error} />
      {!code.data && !code.error && <Loading what={`code ${name}`} />}
      {code.data?.versions.map((version) => (
        <section className="card" key={version.version} aria-labelledby={`code-${version.version}`}>
          <h2 id={`code-${version.version}`}>v{version.version}</h2>
          <dl className="facts">
            <dt>Registered</dt>
            <dd>
              <Time at={version.createdAt} />
            </dd>
            <dt>sha256</dt>
            <dd className="mono">{version.sha256}</dd>
            <dt>Files</dt>
            <dd>
              {version.files} files, {version.bytes} bytes
            </dd>
            <dt>Manifest</dt>
            <dd>
              <pre>{JSON.stringify(version.manifest, null, 2)}</pre>
            </dd>
          </dl>
          <a
            className="button"
            href={href(["start"], { code: name, version: String(version.version) })}
          >
            Start a run with v{version.version}
          </a>
        </section>
      ))}
    </>
  );
}
