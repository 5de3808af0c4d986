// The `modeldrop` command's conventions, none of which needs a server: --version, each
// command's own --help, the global usage, and errors (plain, or one line of JSON under --json)
// with the exit codes cli/README.md promises.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ErrorOutput } from "../../cli/client.js";
import { main } from "../../cli/main.js";
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
      const result = await modeldrop(name, "--help");

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
