// The `modeldrop` command: the local cloud (`up`, `demo`), deployment (`deploy`), and every
// REST operation over the API (local by default; --endpoint/--token or MODELDROP_ENDPOINT /
// MODELDROP_TOKEN for a deployed one). Exit codes: 0 done (a run that SUCCEEDED), 1 the run or
// request did not succeed (one line says why), 2 usage, 3 the API could not be reached or
// refused the token.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ModelDetail, ModelPage, ModelVersionView } from "../core/api.js";
import { Api, CliError, connection } from "./client.js";
import { deploy } from "./deploy.js";
import {
  drop,
  follow,
  getRun,
  listRuns,
  optionsFromFlags,
  predict,
  printLogs,
  reason,
  report,
  runExit,
  startAction,
  summary,
} from "./runs.js";
import { demo, up } from "./up.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `usage: modeldrop <command> [options]

local cloud
  up [--port N] [--api-port N] [--state-dir DIR]   run the local cloud (Ctrl-C stops it)
  demo                                             up + drop the bundled dataset + follow it
  token                                            print the local API token
runs
  drop <file> [--target COL] [--task T] [--model-name N] [--set key=value]... [--follow]
  runs [--status S] [--model M] [--dataset NAME] [--limit N] [--cursor C]
  show <id>            follow <id>            logs <id> [--step S] [--follow]
  cancel <id>          retry <id> [--follow]  report <id> [--out FILE]
models
  models               approve <name> <version> [--reason R]     reject <name> <version> [--reason R]
  predict <model> <file> [--version N] [--follow]
AWS
  deploy [--stage S] [--region R] [--email A] ...  (modeldrop deploy --help)

every API command: --json, --endpoint URL, --token T (or MODELDROP_ENDPOINT, MODELDROP_TOKEN)`;

const COMMON = {
  json: { type: "boolean", default: false },
  endpoint: { type: "string" },
  token: { type: "string" },
  "state-dir": { type: "string" },
  help: { type: "boolean", default: false },
} as const satisfies ParseArgsConfig["options"];

function parse<O extends ParseArgsConfig["options"]>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
}

function positional(positionals: string[], index: number, name: string): string {
  const value = positionals[index];
  if (!value) throw new CliError(`missing <${name}>\n${USAGE}`, 2);
  return value;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Follows a run to its end and prints it; the exit code says whether it succeeded. */
async function finish(api: Api, id: string, json: boolean): Promise<number> {
  const run = await follow(api, id);
  if (json) printJson(run);
  else console.log(summary(run));
  if (runExit(run) !== 0) console.error(`modeldrop: ${reason(run)}`);
  return runExit(run);
}

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  up: (argv) => up(argv, PROJECT_ROOT),
  demo: (argv) => demo(argv, PROJECT_ROOT),
  deploy: (argv) => deploy(argv, PROJECT_ROOT),

  token: async (argv) => {
    const { values } = parse(argv, {});
    console.log(connection({ stateDir: values["state-dir"], token: values.token }).token);
    return 0;
  },

  drop: async (argv) => {
    const { values, positionals } = parse(argv, {
      target: { type: "string" },
      task: { type: "string" },
      "model-name": { type: "string" },
      set: { type: "string", multiple: true },
      follow: { type: "boolean", default: false },
    });
    const file = positional(positionals, 0, "file");
    const options = optionsFromFlags({
      target: values.target,
      task: values.task,
      modelName: values["model-name"],
      set: values.set,
    });
    const api = apiFor(values);
    const id = await drop(api, file, options);
    if (values.follow) return finish(api, id, values.json);
    if (values.json) printJson({ id, url: `/runs/${id}` });
    else console.log(`run ${id} started; follow it with: npx modeldrop follow ${id}`);
    return 0;
  },

  runs: async (argv) => {
    const { values } = parse(argv, {
      status: { type: "string" },
      model: { type: "string" },
      dataset: { type: "string" },
      kind: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
    });
    const page = await listRuns(apiFor(values), {
      status: values.status,
      model: values.model,
      dataset: values.dataset,
      kind: values.kind,
      limit: values.limit,
      cursor: values.cursor,
    });
    if (values.json) printJson(page);
    else {
      for (const run of page.runs)
        console.log(
          `${run.id}  ${run.status.padEnd(15)} ${run.createdAt}  ${run.kind.padEnd(7)} ${run.dataset.name}${run.modelVersion !== undefined ? `  → ${run.modelName} v${run.modelVersion}` : ""}`,
        );
      if (page.runs.length === 0) console.log("no runs");
      if (page.next) console.log(`more: --cursor ${page.next}`);
    }
    return 0;
  },

  show: async (argv) => {
    const { values, positionals } = parse(argv, {});
    const run = await getRun(apiFor(values), positional(positionals, 0, "id"));
    if (values.json) printJson(run);
    else console.log(summary(run));
    return 0;
  },

  follow: async (argv) => {
    const { values, positionals } = parse(argv, {});
    return finish(apiFor(values), positional(positionals, 0, "id"), values.json);
  },

  logs: async (argv) => {
    const { values, positionals } = parse(argv, {
      step: { type: "string" },
      follow: { type: "boolean", default: false },
    });
    const lines: string[] = [];
    await printLogs(
      apiFor(values),
      positional(positionals, 0, "id"),
      values.step,
      values.follow,
      (line) => (values.json ? lines.push(line) : console.log(line)),
    );
    if (values.json) printJson(lines);
    return 0;
  },

  cancel: async (argv) => {
    const { values, positionals } = parse(argv, {});
    const accepted = await startAction(apiFor(values), positional(positionals, 0, "id"), "cancel");
    if (values.json) printJson(accepted);
    else console.log(`run ${accepted.id}: stopping (it ends STOPPED and sends its notice)`);
    return 0;
  },

  retry: async (argv) => {
    const { values, positionals } = parse(argv, { follow: { type: "boolean", default: false } });
    const api = apiFor(values);
    const accepted = await startAction(api, positional(positionals, 0, "id"), "retry");
    if (values.follow) return finish(api, accepted.id, values.json);
    if (values.json) printJson(accepted);
    else console.log(`run ${accepted.id} started as a retry`);
    return 0;
  },

  report: async (argv) => {
    const { values, positionals } = parse(argv, { out: { type: "string" } });
    const where = await report(apiFor(values), positional(positionals, 0, "id"), values.out);
    if (values.json) printJson({ report: where });
    else console.log(where);
    return 0;
  },

  models: async (argv) => {
    const { values, positionals } = parse(argv, {});
    const api = apiFor(values);
    if (positionals[0]) {
      const model = await api.call(
        ModelDetail,
        "GET",
        `/models/${encodeURIComponent(positionals[0])}`,
      );
      if (values.json) printJson(model);
      else
        for (const v of model.versions)
          console.log(
            `${model.name} v${v.version}  ${v.approval.padEnd(8)} ${Object.entries(v.metrics)
              .map(([k, m]) => `${k} ${m.toFixed(4)}`)
              .join(", ")}  (run ${v.runId})`,
          );
      return 0;
    }
    const page = await api.call(ModelPage, "GET", "/models");
    if (values.json) printJson(page);
    else {
      for (const m of page.models)
        console.log(
          `${m.name}  latest v${m.latestVersion}  approved ${m.approvedVersion === undefined ? "none" : `v${m.approvedVersion}`}`,
        );
      if (page.models.length === 0) console.log("no models registered yet");
    }
    return 0;
  },

  approve: (argv) => decide(argv, "approve"),
  reject: (argv) => decide(argv, "reject"),

  predict: async (argv) => {
    const { values, positionals } = parse(argv, {
      version: { type: "string" },
      follow: { type: "boolean", default: false },
    });
    const version = values.version === undefined ? undefined : Number(values.version);
    if (version !== undefined && !Number.isInteger(version))
      throw new CliError("--version must be a number", 2);
    const api = apiFor(values);
    const id = await predict(
      api,
      positional(positionals, 0, "model"),
      positional(positionals, 1, "file"),
      version,
    );
    if (values.follow) return finish(api, id, values.json);
    if (values.json) printJson({ id, url: `/runs/${id}` });
    else console.log(`prediction run ${id} started; follow it with: npx modeldrop follow ${id}`);
    return 0;
  },
};

async function decide(argv: string[], decision: "approve" | "reject"): Promise<number> {
  const { values, positionals } = parse(argv, {
    reason: { type: "string" },
    by: { type: "string" },
  });
  const name = positional(positionals, 0, "name");
  const version = positional(positionals, 1, "version");
  const decided = await apiFor(values).call(
    ModelVersionView,
    "POST",
    `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/${decision}`,
    {
      ...(values.reason ? { reason: values.reason } : {}),
      ...(values.by ? { by: values.by } : {}),
    },
  );
  if (values.json) printJson(decided);
  else
    console.log(
      `${decided.modelName} v${decided.version}: ${decided.approval} by ${decided.decidedBy}`,
    );
  return 0;
}

function apiFor(values: {
  endpoint?: string | undefined;
  token?: string | undefined;
  "state-dir"?: string | undefined;
}): Api {
  return new Api(
    connection({ endpoint: values.endpoint, token: values.token, stateDir: values["state-dir"] }),
  );
}

export async function main(argv: string[]): Promise<number> {
  const [command = "", ...rest] = argv;
  const run = COMMANDS[command];
  if (!run || command === "--help") {
    console.error(
      command && command !== "--help" ? `modeldrop: unknown command ${command}\n${USAGE}` : USAGE,
    );
    return command === "--help" ? 0 : 2;
  }
  if (rest.includes("--help") && !["up", "deploy"].includes(command)) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`modeldrop ${command}: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
