// The `modeldrop` command: the local cloud (`up`, `demo`), deployment (`deploy`), and every
// REST operation over the API (local by default; --endpoint/--token or MODELDROP_ENDPOINT /
// MODELDROP_TOKEN for a deployed one). Exit codes: 0 done (a run that SUCCEEDED), 1 the run or
// request did not succeed (one line says why), 2 usage, 3 the API could not be reached or
// refused the token. Under --json that line is JSON (ErrorOutput in cli/client.ts).
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CodeDetail,
  CodePage,
  INVOKE_TYPES,
  LOG_STEPS,
  ModelDetail,
  ModelPage,
  ModelVersionView,
} from "../core/api.js";
import {
  ENDPOINT_STATUSES,
  HOSTING_INSTANCE_TYPES,
  PAYLOAD_LIMIT_BYTES,
  SERVERLESS_MEMORY_MB,
} from "../core/endpoints.js";
import { TASKS } from "../core/options.js";
import { RUN_STATUSES } from "../core/runs.js";
import packageJson from "../package.json" with { type: "json" };
import { Api, CliError, connection, type ErrorOutput } from "./client.js";
import { codeOption, pushCode } from "./code.js";
import { DEPLOY_FLAGS, deploy } from "./deploy.js";
import {
  asked,
  CONTENT_TYPES,
  createEndpoint,
  createRequest,
  deleteEndpoint,
  deletion,
  endpointDetails,
  endpointFailed,
  endpointMode,
  endpointTable,
  getEndpoint,
  headline,
  invocationBody,
  invocationLines,
  invoke,
  listEndpoints,
  modeOf,
  onApprovalRequest,
  onApprovalText,
  promoteEndpoint,
  promotion,
  type SettingsFlags,
  setOnApproval,
  waitFor,
} from "./endpoints.js";
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
import {
  API_FLAGS,
  type Command,
  command,
  type Flags,
  flagLines,
  HELP_FLAGS,
  paragraph,
  wholeNumber,
} from "./usage.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * A failure on stderr: `modeldrop <command>: <message>` (with the usage after a usage error),
 * or under --json one line of JSON, the last on stderr, so `2>&1 >/dev/null | tail -1 | jq`
 * reads it after any progress lines.
 */
function printError(
  error: CliError,
  options: { json: boolean; command?: string; usage?: string },
): void {
  if (options.json) {
    const { code, message, exitCode, status, field } = error;
    const output: ErrorOutput = {
      error: {
        code,
        message,
        exitCode,
        ...(status === undefined ? {} : { status }),
        ...(field === undefined ? {} : { field }),
      },
    };
    console.error(JSON.stringify(output));
    return;
  }
  const where = options.command ? `modeldrop ${options.command}` : "modeldrop";
  const usage = error.code === "usage" && options.usage ? `\n${options.usage}` : "";
  console.error(`${where}: ${error.message}${usage}`);
}

/** Follows a run to its end and prints it; the exit code says whether it succeeded. */
async function finish(api: Api, id: string, json: boolean): Promise<number> {
  const run = await follow(api, id);
  if (json) printJson(run);
  else console.log(summary(run));
  const exitCode = runExit(run);
  if (exitCode !== 0) {
    const code = `run-${run.status.toLowerCase().replaceAll("_", "-")}`;
    printError(new CliError(reason(run), exitCode, { code }), { json });
  }
  return exitCode;
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

/** The `<id>` (or other) argument `command` has checked is there. */
function arg(positionals: string[], index: number): string {
  return positionals[index] ?? "";
}

const follows = (what: string) =>
  ({
    type: "boolean",
    default: false,
    description: `follow ${what} live to its end; exit 0 only if it SUCCEEDED`,
  }) as const;

/** `--serverless` and `--realtime`: alternatives, each saying what it picks. */
const modeFlags = (serverless: string, realtime: string) =>
  ({
    serverless: { type: "boolean", default: false, oneOf: "mode", description: serverless },
    realtime: { type: "boolean", default: false, oneOf: "mode", description: realtime },
  }) as const;

const waits = (until: string) =>
  ({
    type: "boolean",
    default: false,
    description: `follow it (about every 2 s, each status change on stderr) until ${until}`,
  }) as const;

/** An endpoint's settings, as `endpoint create` and `endpoint on-approval` take them. */
const SETTINGS_FLAGS = {
  memory: {
    type: "string",
    value: "MB",
    description: `serverless: its memory, ${SERVERLESS_MEMORY_MB.join(", ")} (default 2048)`,
  },
  concurrency: {
    type: "string",
    value: "N",
    description: "serverless: requests served at once, 1-200 (default 5)",
  },
  "instance-type": {
    type: "string",
    value: "T",
    description: `real-time: ${HOSTING_INSTANCE_TYPES.join(", ")} (default ml.m5.large)`,
  },
  "instance-count": {
    type: "string",
    value: "N",
    description: "real-time: instances, 1-10 (default 1)",
  },
  "idle-minutes": {
    type: "string",
    value: "N",
    description: "deleted after N minutes without an invocation; 0: never (default 60)",
  },
} as const;

/** SETTINGS_FLAGS' values and the mode, as cli/endpoints.ts takes them. */
function settingsOf(
  values: { serverless: boolean; realtime: boolean } & Partial<
    Record<keyof typeof SETTINGS_FLAGS, string>
  >,
): SettingsFlags {
  return {
    mode: modeOf(values),
    memory: values.memory,
    concurrency: values.concurrency,
    instanceType: values["instance-type"],
    instanceCount: values["instance-count"],
    idleMinutes: values["idle-minutes"],
  };
}

const WHICH_ENDPOINT =
  "Without --serverless or --realtime: the model's one endpoint that is not Deleted (a model with both needs the flag).";

const decision = (verb: "approve" | "reject") =>
  command({
    name: verb,
    group: "models",
    args: ["<name>", "<version>"],
    summary: `${verb} a registered model version (a decision is final)`,
    flags: {
      reason: { type: "string", value: "R", description: "why, kept with the decision" },
      by: { type: "string", value: "WHO", description: "who decided (default: the API's caller)" },
      ...API_FLAGS,
    },
    run: async ({ values, positionals }) => {
      const name = arg(positionals, 0);
      const version = arg(positionals, 1);
      const decided = await apiFor(values).call(
        ModelVersionView,
        "POST",
        `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/${verb}`,
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
    },
  });

const COMMAND_LIST: Command[] = [
  command({
    name: "up",
    group: "local cloud",
    summary:
      "run the local cloud in the foreground until Ctrl-C: package the stack if its sources changed, start it, store ml/ and the API token",
    flags: {
      port: {
        type: "string",
        value: "N",
        description: "the local cloud's port (default 4566; 0 picks a free one)",
      },
      "api-port": {
        type: "string",
        value: "N",
        description: "the stack's HTTP API port (default 4567; 0 picks a free one)",
      },
      "state-dir": {
        type: "string",
        value: "DIR",
        description:
          "where data, logs, the API token and the email outbox live (default ./.modeldrop)",
      },
      inbox: {
        type: "string",
        value: "DIR",
        description: "the folder watched for datasets (default ./inbox)",
      },
      stack: {
        type: "string",
        value: "DIR",
        description:
          "serve this packaged stack as it is (default: modeldrop's, packaged into .serverless)",
      },
      param: {
        type: "string",
        multiple: true,
        value: "Name=Value",
        description: "a stack parameter, over modeldrop's own",
      },
      ...HELP_FLAGS,
    },
    run: ({ values }) =>
      up(
        {
          port: values.port,
          apiPort: values["api-port"],
          stateDir: values["state-dir"],
          inbox: values.inbox,
          stack: values.stack,
          params: values.param,
        },
        PROJECT_ROOT,
      ),
  }),
  command({
    name: "demo",
    group: "local cloud",
    summary:
      "start the local cloud on the usual ports, drop examples/breast-cancer.csv, follow it, copy the model, metrics and report out, stop",
    flags: {
      "state-dir": {
        type: "string",
        value: "DIR",
        description:
          "the local cloud's state folder; results go to DIR/results/<run> (default ./.modeldrop)",
      },
      ...HELP_FLAGS,
    },
    run: ({ values }) => demo(PROJECT_ROOT, values["state-dir"]),
  }),
  command({
    name: "token",
    group: "local cloud",
    summary:
      "print the API token the API commands send (--token, MODELDROP_TOKEN, or the local cloud's)",
    flags: {
      json: { ...API_FLAGS.json, description: 'print {"token": …}; an error as one line of JSON' },
      token: API_FLAGS.token,
      "state-dir": API_FLAGS["state-dir"],
      ...HELP_FLAGS,
    },
    run: async ({ values }) => {
      const { token } = connection({ stateDir: values["state-dir"], token: values.token });
      if (values.json) printJson({ token });
      else console.log(token);
      return 0;
    },
  }),
  command({
    name: "drop",
    group: "runs",
    args: ["<file>"],
    summary:
      "upload a dataset into the inbox (a presigned POST; the options become its metadata) and print the run it started",
    flags: {
      target: { type: "string", value: "COL", description: "the column to predict" },
      task: {
        type: "string",
        value: "T",
        description: `${TASKS.join(", ")} (default: inferred from the target)`,
      },
      "model-name": {
        type: "string",
        value: "N",
        description: "the registry name (default: a slug of the file name)",
      },
      set: {
        type: "string",
        multiple: true,
        value: "key=value",
        description:
          "any run option: dotted keys, JSON values (--set hyperparameters.max_depth=4 --set manualApproval=true)",
      },
      code: {
        type: "string",
        value: "DIR|NAME[:V]",
        description:
          "run your own scripts: a project folder or archive with modeldrop.json (pushed first), or a registered code name",
      },
      follow: follows("the run"),
      ...API_FLAGS,
    },
    notes: "The options are checked against the options schema before anything is uploaded.",
    run: async ({ values, positionals }) => {
      const flagged = optionsFromFlags({
        target: values.target,
        task: values.task,
        modelName: values["model-name"],
        set: values.set,
      });
      const api = apiFor(values);
      const options = values.code
        ? { ...flagged, code: await codeOption(api, values.code) }
        : flagged;
      const id = await drop(api, arg(positionals, 0), options);
      if (values.follow) return finish(api, id, values.json);
      if (values.json) printJson({ id, url: `/runs/${id}` });
      else console.log(`run ${id} started; follow it with: npx modeldrop follow ${id}`);
      return 0;
    },
  }),
  command({
    name: "runs",
    group: "runs",
    summary: "list runs, newest first, with the next page's cursor",
    flags: {
      status: { type: "string", value: "S", description: RUN_STATUSES.join(", ") },
      model: { type: "string", value: "M", description: "runs of this registered model" },
      dataset: { type: "string", value: "NAME", description: "runs of this dataset file name" },
      kind: { type: "string", value: "K", description: "train or predict" },
      limit: { type: "string", value: "N", description: "runs per page, 1-100 (default 20)" },
      cursor: { type: "string", value: "C", description: "the page after an earlier answer's" },
      ...API_FLAGS,
    },
    run: async ({ values }) => {
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
  }),
  command({
    name: "show",
    group: "runs",
    args: ["<id>"],
    summary: "print a run's summary",
    flags: API_FLAGS,
    run: async ({ values, positionals }) => {
      const run = await getRun(apiFor(values), arg(positionals, 0));
      if (values.json) printJson(run);
      else console.log(summary(run));
      return 0;
    },
  }),
  command({
    name: "follow",
    group: "runs",
    args: ["<id>"],
    summary:
      "follow a run live until its notice went out (a progress bar on a terminal); exit 0 only if it SUCCEEDED",
    flags: API_FLAGS,
    run: async ({ values, positionals }) =>
      finish(apiFor(values), arg(positionals, 0), values.json),
  }),
  command({
    name: "logs",
    group: "runs",
    args: ["<id>"],
    summary: "print a run's job log",
    flags: {
      step: {
        type: "string",
        value: "S",
        description: `${LOG_STEPS.join(", ")} (default: the running or last step)`,
      },
      follow: { type: "boolean", default: false, description: "keep printing until the job ends" },
      ...API_FLAGS,
    },
    run: async ({ values, positionals }) => {
      const lines: string[] = [];
      await printLogs(apiFor(values), arg(positionals, 0), values.step, values.follow, (line) =>
        values.json ? lines.push(line) : console.log(line),
      );
      if (values.json) printJson(lines);
      return 0;
    },
  }),
  command({
    name: "cancel",
    group: "runs",
    args: ["<id>"],
    summary: "stop a run (it ends STOPPED and sends its notice)",
    flags: API_FLAGS,
    run: async ({ values, positionals }) => {
      const accepted = await startAction(apiFor(values), arg(positionals, 0), "cancel");
      if (values.json) printJson(accepted);
      else console.log(`run ${accepted.id}: stopping (it ends STOPPED and sends its notice)`);
      return 0;
    },
  }),
  command({
    name: "retry",
    group: "runs",
    args: ["<id>"],
    summary: "start a new run on the same input version and options",
    flags: { follow: follows("the new run"), ...API_FLAGS },
    run: async ({ values, positionals }) => {
      const api = apiFor(values);
      const accepted = await startAction(api, arg(positionals, 0), "retry");
      if (values.follow) return finish(api, accepted.id, values.json);
      if (values.json) printJson(accepted);
      else console.log(`run ${accepted.id} started as a retry`);
      return 0;
    },
  }),
  command({
    name: "report",
    group: "runs",
    args: ["<id>"],
    summary: "print the address of a run's report, or save the report",
    flags: {
      out: { type: "string", value: "FILE", description: "save the report (HTML) to FILE" },
      ...API_FLAGS,
    },
    run: async ({ values, positionals }) => {
      const where = await report(apiFor(values), arg(positionals, 0), values.out);
      if (values.json) printJson({ report: where });
      else console.log(where);
      return 0;
    },
  }),
  command({
    name: "models",
    group: "models",
    args: ["[name]"],
    summary: "list the registered models, or one model's versions with their metrics",
    flags: API_FLAGS,
    run: async ({ values, positionals }) => {
      const api = apiFor(values);
      const name = positionals[0];
      if (name) {
        const model = await api.call(ModelDetail, "GET", `/models/${encodeURIComponent(name)}`);
        if (values.json) printJson(model);
        else {
          for (const v of model.versions)
            console.log(
              `${model.name} v${v.version}  ${v.approval.padEnd(8)} ${Object.entries(v.metrics)
                .map(([k, m]) => `${k} ${m.toFixed(4)}`)
                .join(", ")}  (run ${v.runId})`,
            );
          if (model.deployOnApproval)
            console.log(
              onApprovalText({ modelName: model.name, deployOnApproval: model.deployOnApproval }),
            );
        }
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
  }),
  decision("approve"),
  decision("reject"),
  command({
    name: "push",
    group: "code",
    args: ["<dir|archive>"],
    summary:
      "register your own scripts (a folder, .zip or .tar.gz with modeldrop.json at its root) as the next version of a code name",
    flags: {
      name: {
        type: "string",
        value: "N",
        description: "the code name (default: a slug of the folder or file name)",
      },
      ...API_FLAGS,
    },
    notes:
      "The same files under the same name give back the version that holds them. Start a run with them: modeldrop drop data.csv --code NAME[:VERSION].",
    run: async ({ values, positionals }) => {
      const { version, created } = await pushCode(apiFor(values), arg(positionals, 0), values.name);
      if (values.json) printJson({ ...version, created });
      else
        console.log(
          `code ${version.codeName} version ${version.version} ${created ? "registered" : "already registered with these files"} (sha256 ${version.sha256.slice(0, 12)}, ${version.files} files)`,
        );
      return 0;
    },
  }),
  command({
    name: "code",
    group: "code",
    args: ["[name]"],
    summary: "list registered code names, or one name's versions with their hashes",
    flags: API_FLAGS,
    run: async ({ values, positionals }) => {
      const api = apiFor(values);
      const name = positionals[0];
      if (name) {
        const detail = await api.call(CodeDetail, "GET", `/code/${encodeURIComponent(name)}`);
        if (values.json) printJson(detail);
        else
          for (const v of detail.versions)
            console.log(
              `${detail.name} v${v.version}  sha256 ${v.sha256.slice(0, 12)}  ${v.files} files  ${v.createdAt}`,
            );
        return 0;
      }
      const page = await api.call(CodePage, "GET", "/code");
      if (values.json) printJson(page);
      else {
        for (const c of page.code) console.log(`${c.name}  latest v${c.latestVersion}`);
        if (page.code.length === 0) console.log("no code registered yet (modeldrop push DIR)");
      }
      return 0;
    },
  }),
  command({
    name: "predict",
    group: "models",
    args: ["<model>", "<file>"],
    summary: "upload a file into inputs/ and run batch predictions with a registered model",
    flags: {
      version: {
        type: "string",
        value: "N",
        description: "the model version (default: the newest Approved one)",
      },
      follow: follows("the prediction run"),
      ...API_FLAGS,
    },
    run: async ({ values, positionals }) => {
      const version = wholeNumber("version", values.version);
      const api = apiFor(values);
      const id = await predict(api, arg(positionals, 0), arg(positionals, 1), version);
      if (values.follow) return finish(api, id, values.json);
      if (values.json) printJson({ id, url: `/runs/${id}` });
      else console.log(`prediction run ${id} started; follow it with: npx modeldrop follow ${id}`);
      return 0;
    },
  }),
  command({
    name: "endpoint create",
    group: "endpoints",
    args: ["<model>"],
    summary:
      "serve an Approved model version on a SageMaker endpoint, serverless unless --realtime",
    flags: {
      version: {
        type: "string",
        value: "N",
        description: "the version to serve (default: the newest Approved one)",
      },
      ...modeFlags(
        "a serverless endpoint (the default): no instance while idle, billed per request",
        "a real-time endpoint: instances billed by the hour while it exists",
      ),
      ...SETTINGS_FLAGS,
      wait: waits("InService (exit 0) or Failed (exit 1, with the reason)"),
      ...API_FLAGS,
    },
    notes: "A model has at most one endpoint of each mode; promote it to serve another version.",
    run: async ({ values, positionals }) => {
      const model = arg(positionals, 0);
      const request = createRequest({ version: values.version, ...settingsOf(values) });
      const api = apiFor(values);
      const created = await createEndpoint(api, model, request);
      if (values.wait) process.stderr.write(`${asked(created)}\n`);
      const ended = values.wait
        ? await waitFor(api, model, created.mode, (v) => v.status !== "Creating")
        : created;
      if (values.json) printJson(ended);
      else console.log(values.wait ? headline(ended) : asked(ended));
      if (ended.status === "Failed" || (values.wait && ended.status !== "InService"))
        throw endpointFailed(ended);
      if (!values.json)
        console.log(
          values.wait
            ? `invoke it with: npx modeldrop invoke ${model} rows.csv --${ended.mode}`
            : `follow it with: npx modeldrop endpoint show ${model} --${ended.mode}`,
        );
      return 0;
    },
  }),
  command({
    name: "endpoint on-approval",
    group: "endpoints",
    args: ["<model>"],
    summary:
      "serve each version that becomes the model's newest Approved one on an endpoint of these settings, or stop (--off)",
    flags: {
      ...modeFlags(
        "on a serverless endpoint (the default)",
        "on a real-time endpoint (instances billed by the hour)",
      ),
      ...SETTINGS_FLAGS,
      off: {
        type: "boolean",
        default: false,
        description: "stop deploying on approval (endpoints already made stay)",
      },
      ...API_FLAGS,
    },
    notes:
      "The endpoint is created when the model has none of the mode, and promoted when it has one InService; an endpoint that is busy or Failed is left as it is, with a notice. Setting this deploys nothing by itself.",
    run: async ({ values, positionals }) => {
      const model = arg(positionals, 0);
      const settings = settingsOf(values);
      if (values.off && Object.values(settings).some((v) => v !== undefined))
        throw new CliError("--off takes no endpoint settings", 2, { code: "invalid-options" });
      const request = values.off ? undefined : onApprovalRequest(settings);
      const view = await setOnApproval(apiFor(values), model, request);
      if (values.json) printJson(view);
      else console.log(onApprovalText(view));
      return 0;
    },
  }),
  command({
    name: "endpoint list",
    group: "endpoints",
    summary:
      "list endpoints, deleted ones too, newest first: status, version, invocations and cost",
    flags: {
      model: { type: "string", value: "M", description: "endpoints of this registered model" },
      status: { type: "string", value: "S", description: ENDPOINT_STATUSES.join(", ") },
      ...API_FLAGS,
    },
    run: async ({ values }) => {
      const page = await listEndpoints(apiFor(values), {
        model: values.model,
        status: values.status,
      });
      if (values.json) printJson(page);
      else for (const line of endpointTable(page.endpoints)) console.log(line);
      return 0;
    },
  }),
  command({
    name: "endpoint show",
    group: "endpoints",
    args: ["<model>"],
    summary: "print a model's endpoint: status, version, settings, cost with its basis, history",
    flags: {
      ...modeFlags("its serverless endpoint", "its real-time endpoint"),
      ...API_FLAGS,
    },
    notes: WHICH_ENDPOINT,
    run: async ({ values, positionals }) => {
      const api = apiFor(values);
      const model = arg(positionals, 0);
      const view = await getEndpoint(api, model, await endpointMode(api, model, modeOf(values)));
      if (values.json) printJson(view);
      else console.log(endpointDetails(view));
      return 0;
    },
  }),
  command({
    name: "endpoint promote",
    group: "endpoints",
    args: ["<model>"],
    summary:
      "serve another Approved version on the endpoint without downtime (newer, or older to roll back)",
    flags: {
      version: {
        type: "string",
        value: "N",
        description: "the version to serve (default: the newest Approved one)",
      },
      ...modeFlags("its serverless endpoint", "its real-time endpoint"),
      wait: waits("it serves the new version (exit 0) or kept the old one (exit 1, with why)"),
      ...API_FLAGS,
    },
    notes: WHICH_ENDPOINT,
    run: async ({ values, positionals }) => {
      const version = wholeNumber("version", values.version);
      const api = apiFor(values);
      const model = arg(positionals, 0);
      const mode = await endpointMode(api, model, modeOf(values));
      const answer = await promoteEndpoint(api, model, mode, version);
      const ended = values.wait
        ? await waitFor(api, model, mode, (v) => v.status !== "Updating")
        : answer;
      const outcome = promotion(ended, answer.version);
      if (values.json) printJson(ended);
      else console.log(outcome.done && !outcome.promoted ? headline(ended) : outcome.text);
      if (outcome.done && !outcome.promoted)
        throw new CliError(outcome.text, 1, { code: "promotion-failed" });
      return 0;
    },
  }),
  command({
    name: "endpoint delete",
    group: "endpoints",
    args: ["<model>"],
    summary: "delete the endpoint (its record stays, Deleted, with what it cost)",
    flags: {
      ...modeFlags("its serverless endpoint", "its real-time endpoint"),
      reason: { type: "string", value: "TEXT", description: "why, kept with the deletion" },
      wait: waits("it is Deleted, then print what it cost in all"),
      ...API_FLAGS,
    },
    notes: WHICH_ENDPOINT,
    run: async ({ values, positionals }) => {
      const api = apiFor(values);
      const model = arg(positionals, 0);
      const mode = await endpointMode(api, model, modeOf(values));
      const answer = await deleteEndpoint(api, model, mode, values.reason);
      const ended = values.wait
        ? await waitFor(api, model, mode, (v) => v.status === "Deleted")
        : answer;
      if (values.json) printJson(ended);
      else console.log(deletion(ended));
      return 0;
    },
  }),
  command({
    name: "invoke",
    group: "endpoints",
    args: ["<model>", "<file>"],
    summary:
      "send a file (CSV or JSON rows, JSON lines, an image) to the model's endpoint and print its predictions, one JSON object per line",
    flags: {
      ...modeFlags(
        "its serverless endpoint",
        "its real-time endpoint (the default when it has both)",
      ),
      "content-type": {
        type: "string",
        value: "T",
        description: `${INVOKE_TYPES.join(", ")} (default: from the file's extension)`,
      },
      ...API_FLAGS,
    },
    notes: `The content type from the extension: ${[...new Set(Object.values(CONTENT_TYPES))]
      .map(
        (type) =>
          `${Object.keys(CONTENT_TYPES)
            .filter((extension) => CONTENT_TYPES[extension] === type)
            .join(" ")} ${type}`,
      )
      .join(
        ", ",
      )}. A file over ${PAYLOAD_LIMIT_BYTES.realtime / 1024 / 1024} MB (${PAYLOAD_LIMIT_BYTES.serverless / 1024 / 1024} MB for a serverless endpoint) is refused before it is sent; batch predictions (modeldrop predict) take any size. --json prints the whole answer: the version and endpoint that answered, and the predictions.`,
    run: async ({ values, positionals }) => {
      const mode = modeOf(values);
      const body = await invocationBody(arg(positionals, 1), {
        mode,
        contentType: values["content-type"],
      });
      const answer = await invoke(apiFor(values), arg(positionals, 0), body, mode);
      if (values.json) printJson(answer);
      else {
        for (const line of invocationLines(answer)) console.log(line);
        process.stderr.write(
          `version ${answer.version} of ${answer.modelName}, ${answer.mode} endpoint ${answer.endpoint}\n`,
        );
      }
      return 0;
    },
  }),
  command({
    name: "deploy",
    group: "AWS",
    summary:
      "deploy modeldrop to the AWS account of your current credentials (AWS_PROFILE, or the usual AWS_* variables)",
    flags: DEPLOY_FLAGS,
    notes: "README.md, Deploying to AWS, lists what it creates and each parameter's default.",
    run: (_parsed, argv) => deploy(argv, PROJECT_ROOT),
  }),
];

export const COMMANDS: ReadonlyMap<string, Command> = new Map(COMMAND_LIST.map((c) => [c.name, c]));

const GLOBAL_FLAGS = {
  version: { type: "boolean", short: "V", description: "print the version" },
  help: { ...HELP_FLAGS.help, description: "print this usage" },
} as const satisfies Flags;

/** Every command, each with its flags, then the flags the API commands share. */
export function globalUsage(): string {
  const lines = [
    "usage: modeldrop <command> [arguments] [flags]",
    "       modeldrop <command> --help    (or modeldrop help <command>) that command's usage",
    "       modeldrop --version",
  ];
  for (const group of new Set(COMMAND_LIST.map((c) => c.group))) {
    lines.push("", group);
    for (const c of COMMAND_LIST.filter((c) => c.group === group))
      lines.push(`  ${c.synopsis}`, paragraph(c.summary, "      "));
  }
  const apiGroups = [...new Set(COMMAND_LIST.filter((c) => c.api).map((c) => c.group))];
  const { help: _help, ...apiFlags } = API_FLAGS;
  const listed = `${apiGroups.slice(0, -1).join(", ")} and ${apiGroups.at(-1) ?? ""}`;
  lines.push("", `every ${listed} command also takes:`, ...flagLines(apiFlags));
  lines.push("", "every command takes -h, --help (its own usage); modeldrop itself takes:");
  lines.push(...flagLines(GLOBAL_FLAGS));
  lines.push(
    "",
    paragraph(
      'exit codes: 0 done (a followed run SUCCEEDED); 1 the run or request did not succeed; 2 a usage error or an invalid option; 3 the API could not be reached, answered something unexpected, or refused the token. Under --json an error is one line of JSON on stderr: {"error": {"code", "message", "exitCode", "status"?, "field"?}}.',
    ),
  );
  return lines.join("\n");
}

/** A group's commands (`endpoint create`, `endpoint list`… for `endpoint`). */
function subcommands(group: string): Command[] {
  return COMMAND_LIST.filter((c) => c.name.startsWith(`${group} `));
}

/** `modeldrop endpoint --help`: the group's commands, each with its flags and what it does. */
function groupUsage(group: string): string {
  const commands = subcommands(group);
  const names = commands.map((c) => c.name.slice(group.length + 1));
  return [
    `usage: modeldrop ${group} <${names.join("|")}> [arguments] [flags]`,
    "",
    ...commands.flatMap((c) => [`  ${c.synopsis}`, paragraph(c.summary, "      ")]),
    "",
    paragraph(
      `modeldrop ${group} <command> --help prints that command's own usage; each also takes the flags every API command takes (modeldrop --help).`,
    ),
  ].join("\n");
}

/** `--json` anywhere before a `--` asks for errors as JSON, even before the flags parse. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const [name = "", ...rest] = argv;
  if (name === "--version" || name === "-V") {
    console.log(packageJson.version);
    return 0;
  }
  if (name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    console.log(globalUsage());
    return 0;
  }
  if (name === "help") return main([...rest, "--help"]);
  const [sub = "", ...afterSub] = rest;
  const grouped = COMMANDS.get(`${name} ${sub}`);
  const found = grouped ?? COMMANDS.get(name);
  if (!found && subcommands(name).length > 0) {
    if (sub === "--help" || sub === "-h") {
      console.log(groupUsage(name));
      return 0;
    }
    const message =
      sub && !sub.startsWith("-") ? `unknown command ${name} ${sub}` : "missing <subcommand>";
    printError(new CliError(message, 2), { json, command: name, usage: groupUsage(name) });
    return 2;
  }
  if (!found) {
    const message = name ? `unknown command ${name}` : "missing <command>";
    printError(new CliError(message, 2), { json, usage: globalUsage() });
    return 2;
  }
  try {
    return await found.run(grouped ? afterSub : rest);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    printError(error, { json, command: found.name, usage: found.usage });
    return error.exitCode;
  }
}
