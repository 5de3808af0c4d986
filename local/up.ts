// `modeldrop up`: the local cloud in the foreground until Ctrl-C.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type LocalCloud, startLocalCloud } from "./cloud.js";
import { templatePath } from "./stack.js";

/** What `modeldrop up` was asked for (the CLI parses its flags: cli/main.ts). */
export interface UpSettings {
  /** Port numbers as given; validated here. */
  port?: string | undefined;
  apiPort?: string | undefined;
  stateDir?: string | undefined;
  inbox?: string | undefined;
  /** The packaged stack folder (default: the project's `.serverless`). */
  stack?: string | undefined;
  /** `Name=Value` stack parameters. */
  params?: string[] | undefined;
}

/**
 * What the application adds around the generic start (the local cloud knows only the packaged
 * stack): `prepare` may package the stack and add parameters before the start, `started`
 * provisions the running cloud and returns lines to print.
 */
export interface UpHooks {
  prepare?: (stackDir: string) => Promise<Record<string, string>>;
  started?: (cloud: LocalCloud) => Promise<string[]>;
}

export async function up(
  settings: UpSettings,
  projectRoot: string,
  hooks: UpHooks = {},
): Promise<number> {
  const values = {
    port: settings.port ?? "4566",
    "api-port": settings.apiPort ?? "4567",
    "state-dir": settings.stateDir ?? ".modeldrop",
    inbox: settings.inbox ?? "inbox",
    stack: settings.stack,
    param: settings.params ?? [],
  };
  const port = portNumber(values.port);
  const apiPort = portNumber(values["api-port"]);
  if (port === undefined || apiPort === undefined) {
    console.error(
      `modeldrop up: --port and --api-port must be port numbers, not ${values.port} and ${values["api-port"]}`,
    );
    return 2;
  }
  const parameters: Record<string, string> = {};
  for (const pair of values.param) {
    const at = pair.indexOf("=");
    if (at < 1) {
      console.error(`modeldrop up: --param needs Name=Value, not ${pair}`);
      return 2;
    }
    parameters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const stackDir = resolve(values.stack ?? resolve(projectRoot, ".serverless"));
  if (hooks.prepare) {
    // --param on the command line wins over what the application prepares.
    const given = { ...parameters };
    Object.assign(parameters, await hooks.prepare(stackDir), given);
  }
  const hasStack = existsSync(templatePath(stackDir));
  const cloud = await startLocalCloud({
    stateDir: values["state-dir"],
    port,
    apiPort,
    ...(hasStack ? { stack: { dir: stackDir, parameters } } : {}),
    inbox: { folder: values.inbox },
    log: (line) => console.log(line),
  });
  // Whatever ends this run (a signal, or a failure while provisioning or printing), the cloud is
  // stopped the one way it stops: its jobs, deliveries and dynalite are not left behind.
  try {
    const extra = hooks.started && hasStack ? await hooks.started(cloud) : [];
    console.log(`local cloud: ${cloud.endpoint}`);
    if (cloud.api.routeKeys.length > 0) console.log(`http api:    ${cloud.apiEndpoint}`);
    console.log(`state:       ${cloud.stateDir}`);
    if (cloud.inbox)
      console.log(`inbox:       ${resolve(values.inbox)} → s3://${cloud.inboxBucket}/inbox/`);
    else
      console.log(
        hasStack
          ? "inbox:       not watched (the stack has no DataBucketName output)"
          : `stack:       none found at ${stackDir}; services start empty and the inbox is not watched`,
      );
    for (const line of extra) console.log(line);
    console.log(
      "Point the AWS CLI or SDK at it: AWS_ENDPOINT_URL=" +
        cloud.endpoint +
        " (any credentials). Ctrl-C stops it.",
    );
    await stopSignal();
    console.log("stopping the local cloud…");
  } finally {
    await cloud.stop();
  }
  return 0;
}

/**
 * Resolves at the first SIGINT or SIGTERM. Both listeners go with it, so a second signal while
 * the cloud stops ends the process at once (the job reaper still kills the jobs).
 */
function stopSignal(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function portNumber(text: string): number | undefined {
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}
