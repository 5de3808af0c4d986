/**
 * `modeldrop up` and `modeldrop demo`: the local cloud with the modeldrop stack on it. `up`
 * packages the stack when its sources changed since the last package, stores ml/ and the API
 * token, and runs until Ctrl-C. `demo` does the same in the background of one command: drops
 * the bundled dataset through the API, follows the run live and says where everything is.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LocalCloud, startLocalCloud } from "../local/cloud.js";
import { defaultJobSlots } from "../local/sagemaker-runner.js";
import { up as startUp, type UpSettings } from "../local/up.js";
import { Api, CliError } from "./client.js";
import { packageStack, provisionLocalStack, STACK_NAME } from "./local-stack.js";
import { drop, follow, summary } from "./runs.js";
import { buildCode } from "./stage-code.js";

/**
 * Locally every notice is written to the outbox as the email this address would get (and sent
 * over SMTP when MODELDROP_SMTP_URL is set).
 */
function localParameters(codeSha256: string): Record<string, string> {
  return {
    CodeSha256: codeSha256,
    NoticeEmail: process.env.MODELDROP_EMAIL ?? "you@example.com",
    // The search's candidates run as many at once as the local cloud has job slots.
    TrainingParallelJobs: String(defaultJobSlots()),
  };
}

/** What the packaged stack is built from; newer than the package means package again. */
const STACK_SOURCES = [
  "serverless.yml",
  "package-lock.json",
  "handlers",
  "core",
  "aws",
  "statemachines",
  "web",
];

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestChange(join(path, name))),
    stat.mtimeMs,
  );
}

/** Packages the stack into `dir` unless the package there is newer than every source. */
export function ensurePackaged(
  projectRoot: string,
  dir: string,
  log: (line: string) => void,
): void {
  const template = join(dir, "cloudformation-template-update-stack.json");
  const sources = Math.max(...STACK_SOURCES.map((s) => newestChange(join(projectRoot, s))));
  if (existsSync(template) && statSync(template).mtimeMs > sources) return;
  log("packaging the stack (serverless package, offline)…");
  packageStack(projectRoot, dir);
}

export async function up(settings: UpSettings, projectRoot: string): Promise<number> {
  const code = buildCode(projectRoot);
  return startUp(settings, projectRoot, {
    prepare: async (stackDir) => {
      if (settings.stack === undefined) ensurePackaged(projectRoot, stackDir, console.log);
      return localParameters(code.sha256);
    },
    started: async (cloud) => {
      // Another stack (`--stack`) is served as it is: there is no modeldrop code or token to store.
      if (!cloud.stack?.outputs.ApiTokenParameterName) return [];
      await provisionLocalStack(cloud, code);
      return [
        `dashboard:   ${cloud.apiEndpoint}/ (sign in with the API token)`,
        `api token:   in ${join(cloud.stateDir, "api-token")} (\`npx modeldrop token\`)`,
        `try:         npx modeldrop drop examples/breast-cancer.csv --follow`,
      ];
    },
  });
}

export const DEMO_DATASET = "examples/breast-cancer.csv";

/** Saves a presigned link's object into `folder`, returning the path (undefined without a link). */
async function save(
  url: string | undefined,
  folder: string,
  name: string,
): Promise<string | undefined> {
  if (!url) return undefined;
  const response = await fetch(url);
  if (!response.ok) return undefined;
  mkdirSync(folder, { recursive: true });
  const path = join(folder, name);
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  return path;
}

function noticeFile(stateDir: string, runId: string): string | undefined {
  const outbox = join(stateDir, "outbox");
  if (!existsSync(outbox)) return undefined;
  const file = readdirSync(outbox).find((name) =>
    readFileSync(join(outbox, name), "utf8").includes(runId),
  );
  return file ? join(outbox, file) : undefined;
}

export async function demo(projectRoot: string, stateFolder = ".modeldrop"): Promise<number> {
  const stateDir = resolve(stateFolder);
  const stackDir = join(projectRoot, ".serverless");
  ensurePackaged(projectRoot, stackDir, console.error);
  const code = buildCode(projectRoot);
  console.error("starting the local cloud…");
  let cloud: LocalCloud | undefined;
  try {
    try {
      // The usual ports, so the links in the run record work again under `modeldrop up`.
      cloud = await startLocalCloud({
        stateDir,
        port: 4566,
        apiPort: 4567,
        stack: { dir: stackDir, stackName: STACK_NAME, parameters: localParameters(code.sha256) },
      });
    } catch (error) {
      if (error instanceof Error && "code" in error && error.code === "EADDRINUSE")
        throw new CliError(
          `ports 4566/4567 are taken (is \`npx modeldrop up\` running?); with it running: npx modeldrop drop ${DEMO_DATASET} --target diagnosis --follow`,
          1,
          { code: "ports-taken" },
        );
      throw error;
    }
    const { token } = await provisionLocalStack(cloud, code);
    const api = new Api({ endpoint: cloud.apiEndpoint, token });
    console.error(
      `dropping ${DEMO_DATASET} (Breast Cancer Wisconsin, CC BY 4.0; examples/README.md)`,
    );
    const id = await drop(api, join(projectRoot, DEMO_DATASET), { target: "diagnosis" });
    console.error(`run ${id}:`);
    const run = await follow(api, id);
    // SNS delivers in the background, as on AWS: let the email land before pointing at it.
    await Promise.race([cloud.sns.settle(), new Promise((done) => setTimeout(done, 5_000))]);
    // The outputs live in the local bucket; copies on disk open with any tool.
    const folder = join(stateDir, "results", id);
    const model = await save(run.links.model?.url, folder, "model.tar.gz");
    const metrics = await save(run.links.evaluation?.url, folder, "evaluation.json");
    const reportFile = await save(run.links.report?.url, folder, "report.html");
    console.log(summary(run));
    console.log("");
    console.log(`the results, copied out of the local bucket into ${folder}:`);
    console.log(`  model:    ${model ?? "(none: the run registered no model)"}`);
    console.log(`  metrics:  ${metrics ?? "(none)"}`);
    console.log(`  report:   ${reportFile ?? "(none)"}`);
    console.log(`  email:    ${noticeFile(stateDir, id) ?? join(stateDir, "outbox")}`);
    console.log(
      `  dashboard: ${cloud.apiEndpoint}/#/runs/${encodeURIComponent(id)} while \`npx modeldrop up\` runs (sign in with \`npx modeldrop token\`)`,
    );
    console.log("");
    console.log(
      "next: `npx modeldrop up` serves the API, the dashboard and the inbox/ folder; `npx modeldrop runs` lists runs.",
    );
    return run.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    await cloud?.stop();
  }
}
