// The API contract check: schemathesis fuzzes every operation of GET /openapi.json against the
// packaged stack on a provisioned local cloud with an empty data bucket, and fails on a 5xx, an
// undeclared status or content type, or a body its declared schema does not describe.
//
//   npm run check:api
//   npm run check:api -- --max-examples 100 --seed 7    # a longer exploratory run
//
// schemathesis lives in .venv-contract/, made from .ci/requirements-contract.txt; a stamp holds
// the hash of that file, and the environment is left alone while it matches (as in
// .ci/check-stack.sh). The run is bounded by examples, not by time: schemathesis 4's --max-time
// repeats fuzzing until the budget is spent, so the requests sent would depend on the machine's
// speed. A fixed seed and no example database make every run send the same requests; the
// deadline below only stops a hung run.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageStack, startPipelineCloud } from "../test/integration/pipeline-stack.js";

const ROOT = resolve(import.meta.dirname, "..");
const REQUIREMENTS = join(ROOT, ".ci", "requirements-contract.txt");
const VENV = join(ROOT, ".venv-contract");
const STAMP = join(VENV, ".modeldrop-requirements.sha256");
const SCHEMATHESIS = join(VENV, "bin", "schemathesis");
const CONFIG = join(ROOT, ".ci", "schemathesis.toml");
const DEADLINE_S = 240;

const SCHEMATHESIS_ARGS = [
  "--checks",
  "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
  "--max-examples",
  "15",
  "--seed",
  "20261201",
  "--generation-database",
  "none",
  // One worker: requests go out in the same order every run, the 2-core runner is left to the
  // local cloud's functions, and Python 3.11's ast.parse, which Hypothesis calls to describe
  // filters, is not thread-safe (with 2 workers coverage fails: "AST constructor recursion
  // depth mismatch").
  "--workers",
  "1",
  "--request-timeout",
  "30",
  "--no-color",
];

function ensureSchemathesis(): void {
  const wanted = createHash("sha256").update(readFileSync(REQUIREMENTS)).digest("hex");
  if (existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === wanted) return;
  console.log(`installing schemathesis into ${VENV}`);
  const python = join(VENV, "bin", "python");
  if (!existsSync(python))
    execFileSync(process.env.PYTHON ?? "python3", ["-m", "venv", VENV], { stdio: "inherit" });
  execFileSync(
    python,
    ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
    { stdio: "inherit" },
  );
  writeFileSync(STAMP, `${wanted}\n`);
}

/** schemathesis's exit code; it prints its own progress and summary. */
function schemathesis(apiEndpoint: string, token: string, extra: string[]): Promise<number> {
  const child = spawn(
    SCHEMATHESIS,
    [
      "--config-file",
      CONFIG,
      "run",
      `${apiEndpoint}/openapi.json`,
      "--url",
      apiEndpoint,
      "--header",
      `Authorization: Bearer ${token}`,
      ...SCHEMATHESIS_ARGS,
      // Later options win, so these override the defaults above.
      ...extra,
    ],
    { cwd: ROOT, stdio: "inherit" },
  );
  const stop = () => child.kill("SIGTERM");
  const timer = setTimeout(() => {
    console.error(`api-contract: schemathesis ran past ${DEADLINE_S} s; stopping it`);
    stop();
  }, DEADLINE_S * 1000);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise((done, fail) => {
    child.once("error", fail);
    child.once("exit", (code) => {
      clearTimeout(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // No code: stopped by a signal (the deadline or Ctrl-C), which is a failure.
      done(code ?? 1);
    });
  });
}

async function main(extra: string[]): Promise<number> {
  const started = performance.now();
  ensureSchemathesis();
  const stackDir = packageStack();
  try {
    const { cloud, token, cleanup } = await startPipelineCloud({}, stackDir);
    try {
      return await schemathesis(cloud.apiEndpoint, token, extra);
    } finally {
      await cleanup();
    }
  } finally {
    rmSync(stackDir, { recursive: true, force: true });
    const seconds = Math.round((performance.now() - started) / 1000);
    console.log(`api-contract: ${seconds} s in all (packaging, local cloud, schemathesis)`);
  }
}

process.exitCode = await main(process.argv.slice(2));
