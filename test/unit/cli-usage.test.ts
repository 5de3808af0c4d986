// The `modeldrop` command's conventions, none of which needs a server: --version, each
// command's own --help, the global usage, and errors (plain, or one line of JSON under --json)
// with the exit codes cli/README.md promises.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Api, CliError, ErrorOutput } from "../../cli/client.js";
import {
  contentTypeFor,
  createRequest,
  onApprovalRequest,
  onApprovalText,
  promotion,
  refuseTooLarge,
  waitFor,
  whichEndpoint,
} from "../../cli/endpoints.js";
import { main } from "../../cli/main.js";
import type { EndpointView } from "../../core/api.js";
import packageJson from "../../package.json" with { type: "json" };

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "modeldrop.mjs");
const execute = promisify(execFile);

/** `main` as the binary calls it, with what it printed. */
async function modeldrop(...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...parts) => {
    stdout.push(parts.join(" "));
  });
  const error = vi.spyOn(console, "error").mockImplementation((...parts) => {
    stderr.push(parts.join(" "));
  });
  try {
    const code = await main(argv);
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** The real binary, as a user's shell runs it. */
async function binary(...argv: string[]) {
  try {
    const { stdout, stderr } = await execute(process.execPath, [BIN, ...argv], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The last stderr line, which under --json is the error. */
function jsonError(stderr: string) {
  return ErrorOutput.parse(JSON.parse(stderr.trim().split("\n").at(-1) ?? ""));
}

const API = ["json", "endpoint", "token", "state-dir"];

/** Every command with every flag a user can pass it. */
const FLAGS: Record<string, string[]> = {
  up: ["port", "api-port", "state-dir", "inbox", "stack", "param"],
  demo: ["state-dir"],
  token: ["json", "token", "state-dir"],
  drop: ["target", "task", "model-name", "set", "follow", ...API],
  runs: ["status", "model", "dataset", "kind", "limit", "cursor", ...API],
  show: API,
  follow: API,
  logs: ["step", "follow", ...API],
  cancel: API,
  retry: ["follow", ...API],
  report: ["out", ...API],
  models: API,
  approve: ["reason", "by", ...API],
  reject: ["reason", "by", ...API],
  predict: ["version", "follow", ...API],
  "endpoint create": [
    "version",
    "serverless",
    "realtime",
    "memory",
    "concurrency",
    "instance-type",
    "instance-count",
    "idle-minutes",
    "wait",
    ...API,
  ],
  "endpoint on-approval": [
    "serverless",
    "realtime",
    "memory",
    "concurrency",
    "instance-type",
    "instance-count",
    "idle-minutes",
    "off",
    ...API,
  ],
  "endpoint list": ["model", "status", ...API],
  "endpoint show": ["serverless", "realtime", ...API],
  "endpoint promote": ["version", "serverless", "realtime", "wait", ...API],
  "endpoint delete": ["serverless", "realtime", "reason", "wait", ...API],
  invoke: ["serverless", "realtime", "content-type", ...API],
  deploy: [
    "stage",
    "region",
    "email",
    "slack-parameter",
    "processing-instance",
    "training-instance",
    "image-training-instance",
    "transform-instance",
    "dry-run",
  ],
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("modeldrop --version", () => {
  it("prints the package's version on stdout and exits 0", async () => {
    const long = await binary("--version");
    const short = await binary("-V");

    expect(long).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: "" });
    expect(short).toEqual(long);
  });
});

describe("modeldrop <command> --help", () => {
  it.each(Object.entries(FLAGS))(
    "prints %s's own usage with every flag it takes, on stdout, exit 0",
    async (name, flags) => {
      const result = await modeldrop(...name.split(" "), "--help");

      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toMatch(new RegExp(`^usage: modeldrop ${name}\\b`));
      for (const flag of [...flags, "help"]) expect(result.stdout).toContain(`--${flag}`);
      // A line that says what the command does, after the synopsis.
      expect(result.stdout.split("\n\n")[1]?.length).toBeGreaterThan(10);
    },
  );

  it("answers -h and `modeldrop help <command>` with the same usage", async () => {
    const long = await modeldrop("predict", "--help");

    expect(await modeldrop("predict", "-h")).toEqual(long);
    expect(await modeldrop("help", "predict")).toEqual(long);
  });

  it("prints up's usage without packaging the stack or starting the local cloud", async () => {
    const started = Date.now();

    const result = await modeldrop("up", "--port", "0", "--help");

    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/packaging|local cloud: http/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("modeldrop --help", () => {
  it("lists every command with every flag, and the shared flags, on stdout, exit 0", async () => {
    const result = await modeldrop("--help");

    expect(result.code).toBe(0);
    for (const [name, flags] of Object.entries(FLAGS)) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
      for (const flag of flags) expect(result.stdout).toContain(`--${flag}`);
    }
    expect(result.stdout).toContain("--version");
    expect(result.stdout).toContain("--help");
  });

  it("prints the same usage on stderr with exit 2 when no command is given", async () => {
    const help = await modeldrop("--help");

    const result = await modeldrop();

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(help.stdout);
  });
});

describe("errors", () => {
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    // An API that answers every request with the problem a missing run gets.
    server = createServer((_request, response) => {
      response.writeHead(404, { "content-type": "application/problem+json" });
      response.end(
        JSON.stringify({
          type: "about:blank",
          title: "Not Found",
          status: 404,
          code: "run-not-found",
          detail: "run 01JD3M2X4Y5Z6A7B8C9D0E1F2G does not exist",
        }),
      );
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("the server has no port");
    endpoint = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise((closed) => server.close(closed));
  });

  it("names an unknown flag on one plain line, then the command's usage (exit 2)", async () => {
    const result = await modeldrop("runs", "--limt", "3");

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe("modeldrop runs: Unknown option '--limt'");
    expect(result.stderr).toContain("usage: modeldrop runs");
  });

  it("reports a usage error under --json as one line of JSON on stderr, exit 2", async () => {
    const result = await binary("runs", "--limt", "3", "--json");

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(jsonError(result.stderr).error).toMatchObject({ code: "usage", exitCode: 2 });
    expect(jsonError(result.stderr).error.message).toContain("--limt");
  });

  it("names a missing argument under --json", async () => {
    const result = await modeldrop("show", "--json");

    expect(result.code).toBe(2);
    expect(jsonError(result.stderr).error).toEqual({
      code: "usage",
      message: "missing <id>",
      exitCode: 2,
    });
  });

  it("refuses endpoint settings with --off before anything is sent (exit 2)", async () => {
    const result = await modeldrop("endpoint", "on-approval", "churn", "--off", "--memory", "4096");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--off takes no endpoint settings");
  });

  it("names an unknown command under --json", async () => {
    const result = await modeldrop("shwo", "--json");

    expect(result.code).toBe(2);
    expect(jsonError(result.stderr).error).toMatchObject({ code: "usage", exitCode: 2 });
    expect(jsonError(result.stderr).error.message).toContain("shwo");
  });

  it("names the run option at fault under --json, before any upload (exit 2)", async () => {
    const result = await modeldrop(
      "drop",
      "nowhere.csv",
      "--set",
      "threshold=high",
      "--token",
      "t",
      "--json",
    );

    expect(result.code).toBe(2);
    expect(jsonError(result.stderr).error).toMatchObject({
      code: "invalid-options",
      field: "threshold",
      exitCode: 2,
    });
  });

  it("says there is no token under --json (exit 2)", async () => {
    vi.stubEnv("MODELDROP_TOKEN", "");
    vi.stubEnv("MODELDROP_STATE_DIR", mkdtempSync(join(tmpdir(), "modeldrop-no-token-")));

    const result = await modeldrop("runs", "--endpoint", endpoint, "--json");

    expect(result.code).toBe(2);
    expect(jsonError(result.stderr).error.code).toBe("no-token");
  });

  it("passes on the API's problem code and HTTP status under --json (exit 1)", async () => {
    const result = await modeldrop(
      "show",
      "01JD3M2X4Y5Z6A7B8C9D0E1F2G",
      "--endpoint",
      endpoint,
      "--token",
      "t",
      "--json",
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(jsonError(result.stderr).error).toEqual({
      code: "run-not-found",
      message: "run 01JD3M2X4Y5Z6A7B8C9D0E1F2G does not exist (run-not-found)",
      exitCode: 1,
      status: 404,
    });
  });

  it("keeps the API's problem a plain line without --json", async () => {
    const result = await modeldrop(
      "show",
      "01JD3M2X4Y5Z6A7B8C9D0E1F2G",
      "--endpoint",
      endpoint,
      "--token",
      "t",
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "modeldrop show: run 01JD3M2X4Y5Z6A7B8C9D0E1F2G does not exist (run-not-found)",
    );
  });

  it("says the API cannot be reached under --json (exit 3)", async () => {
    const result = await modeldrop(
      "runs",
      "--endpoint",
      "http://127.0.0.1:1",
      "--token",
      "t",
      "--json",
    );

    expect(result.code).toBe(3);
    expect(jsonError(result.stderr).error).toMatchObject({ code: "unreachable", exitCode: 3 });
    expect(jsonError(result.stderr).error.message).toContain("http://127.0.0.1:1");
  });
});

/** An endpoint as the API shows one. */
function endpoint(overrides: Partial<EndpointView> = {}): EndpointView {
  return {
    modelName: "churn",
    mode: "serverless",
    name: "md-ep-churn-serverless",
    status: "InService",
    version: 2,
    settings: { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
    idleTimeoutMinutes: 60,
    createdAt: "2026-11-02T10:00:00Z",
    createdBy: "api",
    invocations: 0,
    cost: { usd: 0, hourlyUsd: 0, basis: "nothing while idle" },
    history: [],
    url: "/models/churn/endpoints/serverless",
    invokeUrl: "/models/churn/invoke?mode=serverless",
    ...overrides,
  };
}

/** The CliError `act` throws. */
function thrown(act: () => unknown): CliError {
  try {
    act();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("nothing was thrown");
}

describe("modeldrop endpoint and invoke", () => {
  it("lists the endpoint commands for `modeldrop endpoint --help`, and `help endpoint` alike", async () => {
    const result = await modeldrop("endpoint", "--help");

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^usage: modeldrop endpoint <create\|on-approval\|list\|show\|promote\|delete>/,
    );
    for (const name of ["create", "on-approval", "list", "show", "promote", "delete"])
      expect(result.stdout).toMatch(new RegExp(`^  endpoint ${name}\\b`, "m"));
    expect(await modeldrop("help", "endpoint")).toEqual(result);
  });

  it("refuses `modeldrop endpoint` without a known subcommand, with the group's usage (exit 2)", async () => {
    const missing = await modeldrop("endpoint");
    const unknown = await modeldrop("endpoint", "crate", "churn", "--json");

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^modeldrop endpoint: missing <subcommand>\nusage: modeldrop endpoint /,
    );
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown.stderr).error.message).toBe("unknown command endpoint crate");
  });

  it("shows --serverless and --realtime as alternatives in the usage", async () => {
    const result = await modeldrop("endpoint", "show", "--help");

    expect(result.stdout).toContain("[--serverless | --realtime]");
  });

  it.each([
    ["endpoint", "create", "churn"],
    ["endpoint", "show", "churn"],
    ["endpoint", "promote", "churn"],
    ["endpoint", "delete", "churn"],
    ["invoke", "churn", "rows.csv"],
  ])(
    "refuses --serverless with --realtime for %s %s as a usage error (exit 2)",
    async (...argv) => {
      const result = await modeldrop(
        ...argv,
        "--serverless",
        "--realtime",
        "--token",
        "t",
        "--json",
      );

      expect(result.code).toBe(2);
      expect(jsonError(result.stderr).error).toEqual({
        code: "usage",
        message: "--serverless and --realtime cannot be used together",
        exitCode: 2,
      });
    },
  );

  it.each([
    ["rows.csv", "text/csv"],
    ["rows.TSV", "text/csv"],
    ["rows.txt", "text/csv"],
    ["rows.json", "application/json"],
    ["rows.jsonl", "application/jsonlines"],
    ["rows.ndjson", "application/jsonlines"],
    ["scan.png", "image/png"],
    ["scan.jpg", "image/jpeg"],
    ["scan.jpeg", "image/jpeg"],
  ])("sends %s as %s", (file, type) => {
    expect(contentTypeFor(file)).toBe(type);
  });

  it("sends the --content-type given over the extension's, and refuses one no endpoint takes", () => {
    expect(contentTypeFor("rows.dat", "text/csv; charset=utf-8")).toBe("text/csv; charset=utf-8");
    expect(thrown(() => contentTypeFor("rows.csv", "text/plain"))).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining("text/plain is not one an endpoint takes"),
    });
  });

  it("asks for --content-type when the extension says nothing (exit 2)", () => {
    const error = thrown(() => contentTypeFor("rows.parquet"));

    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("pass --content-type");
  });

  it("refuses a file over 6 MB, or over 4 MB for --serverless, naming the limit", () => {
    const mb = 1024 * 1024;

    expect(() => refuseTooLarge("rows.csv", 5 * mb, undefined)).not.toThrow();
    expect(thrown(() => refuseTooLarge("rows.csv", 7 * mb, undefined))).toMatchObject({
      code: "file-too-large",
      exitCode: 2,
      message: expect.stringContaining("at most 6 MB per request"),
    });
    expect(thrown(() => refuseTooLarge("rows.csv", 5 * mb, "serverless")).message).toContain(
      "a serverless endpoint takes at most 4 MB per request",
    );
  });

  it("refuses the file before reading a token or sending anything", async () => {
    vi.stubEnv("MODELDROP_TOKEN", "");
    vi.stubEnv("MODELDROP_STATE_DIR", mkdtempSync(join(tmpdir(), "modeldrop-no-token-")));

    const result = await modeldrop("invoke", "churn", "rows.parquet", "--json");

    expect(result.code).toBe(2);
    expect(jsonError(result.stderr).error.message).toContain("pass --content-type");
  });

  it("takes the model's one endpoint that is not Deleted when no mode is given", () => {
    const endpoints = [
      endpoint({ mode: "realtime", status: "Deleted" }),
      endpoint({ mode: "serverless", status: "Failed" }),
    ];

    expect(whichEndpoint("churn", endpoints)).toBe("serverless");
  });

  it("asks for --serverless or --realtime when the model has both (exit 2)", () => {
    const both = [endpoint({ mode: "realtime" }), endpoint({ mode: "serverless" })];

    expect(thrown(() => whichEndpoint("churn", both))).toMatchObject({
      code: "usage",
      exitCode: 2,
      message:
        "model churn has a realtime and a serverless endpoint; pass --serverless or --realtime",
    });
  });

  it("says the model has no endpoint and how to create one (exit 1)", () => {
    const error = thrown(() => whichEndpoint("churn", [endpoint({ status: "Deleted" })]));

    expect(error).toMatchObject({ code: "no-endpoint", exitCode: 1 });
    expect(error.message).toMatch(
      /^model churn has no endpoint; create one with: npx modeldrop endpoint create churn/,
    );
  });

  it("builds the create request from the flags, serverless by default", () => {
    expect(createRequest({ memory: "4096", idleMinutes: "0" })).toEqual({
      mode: "serverless",
      memorySizeMb: 4096,
      idleTimeoutMinutes: 0,
    });
    expect(
      createRequest({
        mode: "realtime",
        version: "3",
        instanceType: "ml.c5.large",
        instanceCount: "2",
      }),
    ).toEqual({ mode: "realtime", version: 3, instanceType: "ml.c5.large", instanceCount: 2 });
  });

  it("names the flag when the create request is refused before it is sent (exit 2)", () => {
    const wrongMode = thrown(() => createRequest({ instanceType: "ml.m5.large" }));
    const notNumber = thrown(() => createRequest({ concurrency: "many" }));

    expect(wrongMode).toMatchObject({
      code: "invalid-options",
      field: "instance-type",
      exitCode: 2,
    });
    expect(wrongMode.message).toBe(
      "--instance-type: is for realtime endpoints; a serverless endpoint takes --memory and --concurrency",
    );
    expect(notNumber.message).toBe("--concurrency must be a whole number, not many");
  });

  it("builds the deploy-on-approval request with the create request's checks, and says what it does", () => {
    expect(onApprovalRequest({ mode: "realtime", instanceCount: "2" })).toEqual({
      mode: "realtime",
      instanceCount: 2,
    });
    expect(thrown(() => onApprovalRequest({ memory: "3000" }))).toMatchObject({
      field: "memory",
      exitCode: 2,
    });
    expect(
      onApprovalText({
        modelName: "churn",
        deployOnApproval: {
          mode: "serverless",
          settings: { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
          idleTimeoutMinutes: 0,
          setBy: "alice",
          setAt: "2026-11-02T10:30:00.000Z",
        },
      }),
    ).toBe(
      "model churn serves each newly Approved version on its serverless endpoint (2048 MB, at most 5 requests at once; never deleted for being idle); set by alice at 2026-11-02T10:30:00.000Z",
    );
    expect(onApprovalText({ modelName: "churn", deployOnApproval: null })).toBe(
      "model churn does not deploy on approval",
    );
  });

  it("says whether a promotion serves the new version or kept the old one, with why", () => {
    const promoted = promotion(endpoint({ version: 3 }), 2);
    const kept = promotion(endpoint({ version: 2, failureReason: "the model did not load" }), 2);
    const underWay = promotion(endpoint({ status: "Updating", updating: { version: 3 } }), 2);

    expect(promoted).toMatchObject({ done: true, promoted: true });
    expect(promoted.text).toBe(
      "endpoint churn serverless now serves version 3 (it served version 2)",
    );
    expect(kept).toEqual({
      done: true,
      promoted: false,
      text: "endpoint churn serverless kept version 2: the model did not load",
    });
    expect(underWay.done).toBe(false);
  });

  describe("against an API", () => {
    let server: Server;
    let api: string;
    const requests: { method: string; url: string; type: string; body: string }[] = [];
    /** What GET /models/churn/endpoints/serverless answers, one after another (the last repeats). */
    let statuses: EndpointView["status"][] = [];

    const read = async (request: IncomingMessage) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    };

    beforeAll(async () => {
      server = createServer(async (request, response) => {
        const body = await read(request);
        const { method = "", url = "" } = request;
        requests.push({ method, url, type: request.headers["content-type"] ?? "", body });
        const answer = (status: number, value: unknown) => {
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify(value));
        };
        if (method === "GET" && url === "/endpoints?model=churn")
          return answer(200, { endpoints: [endpoint({ mode: "realtime" })] });
        if (method === "GET" && url === "/models/churn/endpoints/serverless") {
          const status = statuses.length > 1 ? statuses.shift() : statuses[0];
          return answer(200, endpoint({ status: status ?? "InService" }));
        }
        if (method === "DELETE" && url === "/models/churn/endpoints/realtime")
          return answer(202, endpoint({ mode: "realtime", status: "Deleting" }));
        if (method === "POST" && url.startsWith("/models/churn/invoke"))
          return answer(200, {
            modelName: "churn",
            version: 2,
            mode: "realtime",
            endpoint: "md-ep-churn-realtime",
            predictions: [{ prediction: 1 }, { prediction: 0 }],
            contentType: "application/jsonlines",
          });
        return answer(404, {
          type: "about:blank",
          title: "Not Found",
          status: 404,
          code: "not-found",
          detail: url,
        });
      });
      await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
      const address = server.address();
      if (!address || typeof address === "string") throw new Error("the server has no port");
      api = `http://127.0.0.1:${address.port}`;
    });

    afterAll(async () => {
      await new Promise((closed) => server.close(closed));
    });

    afterEach(() => {
      requests.length = 0;
    });

    it("invokes with the file's bytes as the body, its type, no mode, and prints a line per prediction", async () => {
      const file = join(mkdtempSync(join(tmpdir(), "modeldrop-invoke-")), "rows.csv");
      writeFileSync(file, "tenure,plan\n3,basic\n40,pro\n");

      const result = await modeldrop("invoke", "churn", file, "--endpoint", api, "--token", "t");

      expect(result.code).toBe(0);
      expect(result.stdout).toBe('{"prediction":1}\n{"prediction":0}');
      expect(requests).toEqual([
        {
          method: "POST",
          url: "/models/churn/invoke",
          type: "text/csv",
          body: "tenure,plan\n3,basic\n40,pro\n",
        },
      ]);
    });

    it("deletes the model's one endpoint with a DELETE and the reason as JSON", async () => {
      const result = await modeldrop(
        "endpoint",
        "delete",
        "churn",
        "--reason",
        "done testing",
        "--endpoint",
        api,
        "--token",
        "t",
      );

      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        "endpoint churn realtime: Deleting, version 2; it is being deleted",
      );
      expect(requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
        "GET /endpoints?model=churn ",
        'DELETE /models/churn/endpoints/realtime {"reason":"done testing"}',
      ]);
    });

    it("follows an endpoint until it is done, writing each status change once", async () => {
      statuses = ["Creating", "Creating", "InService"];
      const lines: string[] = [];
      const out = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });

      const ended = await waitFor(
        new Api({ endpoint: api, token: "t" }),
        "churn",
        "serverless",
        (view) => view.status !== "Creating",
        { out, pollMs: 1 },
      );

      expect(ended.status).toBe("InService");
      expect(lines.map((line) => line.trim().split(/\s+/)[1])).toEqual(["Creating", "InService"]);
    });
  });
});
