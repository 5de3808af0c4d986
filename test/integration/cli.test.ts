// The `modeldrop` command as users run it: the real binary as a child process, talking to a
// local cloud's REST API with the flags a deployed API would take.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ErrorOutput } from "../../cli/client.js";
import { EndpointView, RunDetail, RunPage } from "../../core/api.js";
import type { LocalCloud } from "../../local/cloud.js";
import { churnCsv } from "./datasets.js";
import { startPipelineCloud } from "./pipeline-stack.js";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "modeldrop.mjs");
const run = promisify(execFile);
let cloud: LocalCloud;
let token: string;
let cleanup: () => Promise<void>;
let files: string;

async function modeldrop(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [BIN, ...args, "--endpoint", cloud.apiEndpoint, "--token", token],
      { timeout: 180_000, env: { ...process.env, FORCE_COLOR: "0" } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

beforeAll(async () => {
  ({ cloud, token, cleanup } = await startPipelineCloud({}, inject("packagedStack")));
  files = mkdtempSync(join(tmpdir(), "modeldrop-cli-"));
}, 120_000);

afterAll(async () => {
  await cleanup();
});

describe("the modeldrop command", { timeout: 200_000 }, () => {
  it("drops a CSV, follows it live and ends with the run record as JSON and exit 0", async () => {
    const file = join(files, "customers.csv");
    writeFileSync(file, churnCsv(300));

    const result = await modeldrop(
      "drop",
      file,
      "--target",
      "churned",
      "--set",
      "hyperparameters.max_depth=3",
      "--follow",
      "--json",
    );

    expect(result.code).toBe(0);
    const record = RunDetail.parse(JSON.parse(result.stdout));
    expect(record).toMatchObject({
      status: "SUCCEEDED",
      options: { target: "churned", hyperparameters: { max_depth: 3 } },
    });
    expect(result.stderr).toMatch(/✓ preprocess/);
    expect(result.stderr).toMatch(/✓ train/);
  });

  it("ends non-zero with the job's reason on one line when the file cannot be trained on", async () => {
    const file = join(files, "tiny.csv");
    writeFileSync(file, "a,b,label\n1,2,x\n3,4,y\n");

    const result = await modeldrop("drop", file, "--follow");

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n").at(-1)).toMatch(
      /^modeldrop: run \S+ failed at preprocess: .*rows/,
    );
  });

  it("refuses a bad option before uploading anything, naming it (exit 2)", async () => {
    const file = join(files, "x.csv");
    writeFileSync(file, churnCsv(30));

    const result = await modeldrop("drop", file, "--set", "threshold=high");

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("threshold");
  });

  it("lists the runs it started, newest first", async () => {
    const result = await modeldrop("runs", "--json");

    expect(result.code).toBe(0);
    const page = RunPage.parse(JSON.parse(result.stdout));
    expect(page.runs.map((r) => r.dataset.name)).toEqual(
      expect.arrayContaining(["customers.csv", "tiny.csv"]),
    );
    expect(page.runs.map((r) => r.dataset.name)).not.toContain("x.csv");
  });

  it("prints a finished job's log and the report's address", async () => {
    const page = RunPage.parse(JSON.parse((await modeldrop("runs", "--json")).stdout));
    const id = page.runs.find((r) => r.dataset.name === "customers.csv")?.id ?? "";

    const ambiguous = await modeldrop("logs", id, "--step", "train");
    const logs = await modeldrop("logs", id, "--step", "train-lightgbm", "--follow");
    const report = await modeldrop("report", id, "--out", join(files, "report.html"));

    // a search trains one job per candidate, and `train` alone does not say which
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain("name one as the step (train-xgboost, train-lightgbm");
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("lightgbm: roc_auc");
    expect(logs.stdout).toContain("MODELDROP_RESOURCES");
    expect(report).toMatchObject({ code: 0, stdout: `${join(files, "report.html")}\n` });
  });

  it("serves the model it trained on an endpoint: created and followed, rows invoked as CSV, deleted with its cost", async () => {
    const rows = churnCsv(5, 7).trim().split("\n");
    const file = join(files, "to-score.csv");
    writeFileSync(file, `${rows.map((row) => row.split(",").slice(0, -1).join(",")).join("\n")}\n`);

    const created = await modeldrop("endpoint", "create", "customers", "--wait");
    const invoked = await modeldrop("invoke", "customers", file);
    const deleted = await modeldrop(
      "endpoint",
      "delete",
      "customers",
      "--reason",
      "done with it",
      "--wait",
      "--json",
    );

    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^endpoint customers serverless: InService, version 1$/m);
    expect(created.stderr).toMatch(/… Creating/);
    expect(invoked.code).toBe(0);
    const predictions = invoked.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    expect(predictions).toHaveLength(5);
    expect(predictions[0]).toHaveProperty("prediction");
    expect(deleted.code).toBe(0);
    expect(EndpointView.parse(JSON.parse(deleted.stdout))).toMatchObject({
      status: "Deleted",
      invocations: 1,
      deletion: { reason: "done with it" },
    });
  });

  it("under --json, ends a run that failed with its record on stdout and the reason as JSON on stderr", async () => {
    const page = RunPage.parse(JSON.parse((await modeldrop("runs", "--json")).stdout));
    const id = page.runs.find((r) => r.dataset.name === "tiny.csv")?.id ?? "";

    const result = await modeldrop("follow", id, "--json");

    expect(result.code).toBe(1);
    expect(RunDetail.parse(JSON.parse(result.stdout)).status).toBe("FAILED");
    const { error } = ErrorOutput.parse(JSON.parse(result.stderr.trim().split("\n").at(-1) ?? ""));
    expect(error).toMatchObject({ code: "run-failed", exitCode: 1 });
    expect(error.message).toMatch(new RegExp(`^run ${id} failed at preprocess: .*rows`));
  });

  it("under --json, passes on the API's problem code and status for a missing run (exit 1)", async () => {
    const result = await modeldrop("show", "01JD3M2X4Y5Z6A7B8C9D0E1F2G", "--json");

    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(ErrorOutput.parse(JSON.parse(result.stderr)).error).toMatchObject({
      code: "run-not-found",
      status: 404,
      exitCode: 1,
    });
  });

  it("under --json, says the API refused the token as JSON (exit 3)", async () => {
    const result = await run(process.execPath, [
      BIN,
      "runs",
      "--json",
      "--endpoint",
      cloud.apiEndpoint,
      "--token",
      "wrong",
    ]).catch((error: { stdout: string; stderr: string; code: number }) => error);

    expect(result).toMatchObject({ code: 3, stdout: "" });
    expect(ErrorOutput.parse(JSON.parse(result.stderr)).error).toEqual({
      code: "token-refused",
      message: "the API refused the token (HTTP 403); check --token or MODELDROP_TOKEN",
      exitCode: 3,
      status: 403,
    });
  });

  it("says the API refused the token (exit 3) instead of printing a stack trace", async () => {
    const { stdout, stderr } = await run(process.execPath, [
      BIN,
      "runs",
      "--endpoint",
      cloud.apiEndpoint,
      "--token",
      "wrong",
    ]).catch((error: { stdout: string; stderr: string; code: number }) => {
      expect(error.code).toBe(3);
      return error;
    });

    expect(stdout).toBe("");
    expect(stderr.trim()).toBe(
      "modeldrop runs: the API refused the token (HTTP 403); check --token or MODELDROP_TOKEN",
    );
  });
});
