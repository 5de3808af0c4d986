/** The dashboard: the session gate, the navigation and the page the URL's hash names. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { type Location, useLocation } from "./hooks.js";
import { CodeListPage, CodePage } from "./pages/code.js";
import { ModelPage, ModelsPage } from "./pages/models.js";
import { PredictPage } from "./pages/predict.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { StartPage } from "./pages/start.js";
import { SessionGate, useSession } from "./session.js";
import "./style.css";

const SECTIONS = [
  ["runs", "Runs"],
  ["start", "Start a run"],
  ["models", "Models"],
  ["predict", "Predictions"],
  ["code", "Code"],
] as const;

function Page({ location }: { location: Location }) {
  const [section, id] = location.segments;
  switch (section) {
    case "runs":
      return id ? <RunPage key={id} id={id} /> : <RunsPage location={location} />;
    case "start":
      return <StartPage location={location} />;
    case "models":
      return id ? <ModelPage key={id} name={id} /> : <ModelsPage />;
    case "predict":
      return <PredictPage location={location} />;
    case "code":
      return id ? <CodePage key={id} name={id} /> : <CodeListPage />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no page at {location.path}. <a href="#/runs">Runs</a>
          </p>
        </>
      );
  }
}

function Shell() {
  const location = useLocation();
  const { signOut } = useSession();
  const section = location.segments[0] ?? "runs";
  return (
    <>
      <button type="button" className="skip" onClick={skipToMain}>
        Skip to the page
      </button>
      <header>
        <span className="brand">modeldrop</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(([name, text]) => (
              <li key={name}>
                <a href={`#/${name}`} aria-current={section === name ? "page" : undefined}>
                  {text}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="link" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page location={location} />
      </main>
    </>
  );
}

/** Skipping moves focus to the page without touching the hash, which holds the route. */
function skipToMain() {
  document.getElementById("main")?.focus();
}

const root = document.getElementById("root");
if (root)
  createRoot(root).render(
    <StrictMode>
      <SessionGate>
        <Shell />
      </SessionGate>
    </StrictMode>,
  );
