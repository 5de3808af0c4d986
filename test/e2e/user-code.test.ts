// Users' own SageMaker scripts through the same pipeline: each examples/ project is pushed with
// the CLI's REST calls, its data dropped with `code` in the options, and the run followed to its
// end on the local cloud — the real state machine, the jobs under the SageMaker container
// contract, and the registry, report and notice a built-in run gets.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, CliError } from "../../cli/client.js";
import { codeOption, pushCode } from "../../cli/code.js";
import { drop, getRun } from "../../cli/runs.js";
import { CodeDetail, LogPage, ModelDetail } from "../../core/api.js";
import type { RunOptions } from "../../core/options.js";
import type { LocalCloud } from "../../local/cloud.js";
import { startPipelineCloud } from "../integration/pipeline-stack.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const EXAMPLES = join(ROOT, "examples");
let cloud: LocalCloud;
let s3: S3Client;
let bucket: string;
let api: Api;
let cleanup: () => Promise<void>;
let scratch: string;

type RunView = Awaited<ReturnType<typeof getRun>>;

async function ended(id: string, timeoutMs = 240_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(api, id);
    if (["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"].includes(run.status) && run.notice) {
      await cloud.sns.settle();
      return getRun(api, id);
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A copy of an example project the test may edit, as a user edits their own. */
function project(example: string, edit?: (folder: string) => void): string {
  const folder = mkdtempSync(join(scratch, `${example}-`));
  cpSync(join(EXAMPLES, example), folder, { recursive: true });
  edit?.(folder);
  return folder;
}

function dataFor(example: string, file: string): string {
  const out = join(scratch, file);
  if (!existsSync(out))
    execFileSync(PYTHON, [join(EXAMPLES, example, "make_data.py"), out], { stdio: "pipe" });
  return out;
}

function emailsFor(runId: string): string[] {
  const outbox = join(cloud.stateDir, "outbox");
  if (!existsSync(outbox)) return [];
  return readdirSync(outbox)
    .map((name) => readFileSync(join(outbox, name), "utf8"))
    .filter((mail) => mail.includes(runId));
}

async function keys(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key ?? "");
}

async function text(key: string): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await answer.Body?.transformToString()) ?? "";
}

function images(run: RunView): Record<string, string> {
  return (run.lineage?.images ?? {}) as Record<string, string>;
}

async function runWith(folder: string, data: string, options: RunOptions = {}) {
  const code = await codeOption(api, folder);
  const id = await drop(api, data, { ...options, code });
  return ended(id);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "modeldrop-user-code-"));
  const started = await startPipelineCloud({}, inject("packagedStack"));
  ({ cloud, s3, bucket, cleanup } = started);
  api = new Api({ endpoint: cloud.apiEndpoint, token: started.token });
}, 120_000);

afterAll(async () => {
  await cleanup();
});

describe("runs with the user's own scripts", { timeout: 300_000 }, () => {
  it("runs a four-step scikit-learn chain with hard-coded /opt/ml paths, then trains, gates, registers and predicts", async () => {
    const run = await runWith(project("sklearn-chain"), dataFor("sklearn-chain", "cancer.csv"), {
      modelName: "cancer-chain",
    });

    expect(run.status, JSON.stringify(run.failure)).toBe("SUCCEEDED");
    expect(Object.keys(run.steps)).toEqual(
      expect.arrayContaining([
        "read",
        "clean",
        "prepare",
        "normalize",
        "train",
        "evaluate",
        "transform",
      ]),
    );
    expect(run.gate).toMatchObject({
      metric: "binary_classification_metrics.roc_auc.value",
      threshold: 0.95,
      direction: "higher",
      passed: true,
    });
    expect(run.metrics?.roc_auc).toBeGreaterThan(0.95);
    expect(run.code).toMatchObject({ name: expect.stringMatching(/^sklearn-chain/), version: 1 });
    expect(images(run).train).toMatch(/sagemaker-scikit-learn:1\.2-1-cpu-py3$/);
    expect(run.cost?.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(["read", "clean", "prepare", "normalize", "train"]),
    );
    const predictions = (await keys(`runs/${run.id}/predictions/`)).filter((k) =>
      k.endsWith(".out"),
    );
    const lines = (await Promise.all(predictions.map(text))).join("").trim().split("\n");
    expect(lines.length).toBeGreaterThan(100);
    expect(JSON.parse(lines[0] ?? "{}")).toHaveProperty("prediction");
    const model = await api.call(ModelDetail, "GET", "/models/cancer-chain");
    expect(model.versions[0]).toMatchObject({ version: 1, approval: "Approved", runId: run.id });
    const logs = await api.call(LogPage, "GET", `/runs/${run.id}/logs?step=clean`);
    expect(logs.job).toBe(`md-${run.id}-clean`);
    expect(logs.events.length).toBeGreaterThan(0);
    expect(await text(`runs/${run.id}/report/index.html`)).toContain("roc_auc");
    expect(emailsFor(run.id)).toHaveLength(1);
  });

  it("gates an XGBoost model on its own evaluate.py's accuracy", async () => {
    const run = await runWith(project("xgboost-gated"), dataFor("xgboost-gated", "binary.csv"));

    expect(run.status, JSON.stringify(run.failure)).toBe("SUCCEEDED");
    expect(run.gate).toMatchObject({
      metric: "binary_classification_metrics.accuracy.value",
      passed: true,
    });
    expect(images(run).train).toMatch(/sagemaker-xgboost:1\.7-1$/);
  });

  it("trains ResNet-18 on images its own preprocess extracted", async () => {
    const folder = project("image-classifier", (dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, "modeldrop.json"), "utf8"));
      manifest.train.hyperparameters.epochs = 1;
      writeFileSync(join(dir, "modeldrop.json"), JSON.stringify(manifest));
    });
    const run = await runWith(folder, dataFor("image-classifier", "shapes.zip"));

    expect(run.status, JSON.stringify(run.failure)).toBe("SUCCEEDED");
    expect(run.metrics?.accuracy).toBeGreaterThan(0.5);
    expect(images(run).train).toMatch(/pytorch-training:2\.5\.1-gpu-py311$/);
    expect(images(run).transform).toMatch(/pytorch-inference:2\.5\.1-cpu-py311$/);
  });

  it("trains the user's train.py on modeldrop's preprocessing and scores it with modeldrop's evaluation", async () => {
    const run = await runWith(project("own-train"), join(EXAMPLES, "breast-cancer.csv"), {
      target: "diagnosis",
    });

    expect(run.status, JSON.stringify(run.failure)).toBe("SUCCEEDED");
    expect(Object.keys(run.steps)).toEqual(
      expect.arrayContaining(["preprocess", "train", "evaluate", "transform"]),
    );
    expect(run.gate).toMatchObject({ metric: "roc_auc", passed: true });
    expect(run.metrics?.roc_auc).toBeGreaterThan(0.9);
  });

  it("fails a run whose processing script raises, with the exception's last lines and the step's log", async () => {
    const folder = project("sklearn-chain", (dir) => {
      const clean = join(dir, "clean.py");
      writeFileSync(
        clean,
        readFileSync(clean, "utf8").replace(
          /\ndef main\(/,
          '\ndef main(*_):\n    raise ValueError("column mean_area has no numbers")\n\n\ndef _unused(',
        ),
      );
    });
    const run = await runWith(folder, dataFor("sklearn-chain", "cancer.csv"));

    expect(run.status).toBe("FAILED");
    expect(run.failure).toMatchObject({
      step: "clean",
      log: { group: "/aws/sagemaker/ProcessingJobs", streamPrefix: `md-${run.id}-clean/` },
    });
    expect(run.failure?.reason).toContain("ValueError: column mean_area has no numbers");
    expect(emailsFor(run.id)).toHaveLength(1);
  });

  it("fails a run whose train.py saves no model, saying so at the train step", async () => {
    const folder = project("own-train", (dir) => {
      const train = join(dir, "train.py");
      writeFileSync(
        train,
        readFileSync(train, "utf8")
          .replace('joblib.dump(model, out / "model.joblib")', 'print("forgot to save", out)')
          .replace('shutil.copy(train / "dataset.json", out / "dataset.json")', "pass"),
      );
    });
    const run = await runWith(folder, join(EXAMPLES, "breast-cancer.csv"), { target: "diagnosis" });

    expect(run.status).toBe("FAILED");
    expect(run.failure).toMatchObject({ step: "train", error: "ModelEmpty" });
    expect(run.failure?.reason).toContain("train.py saved nothing in /opt/ml/model");
  });

  it("refuses a modeldrop.json with an unknown key before anything is registered", async () => {
    const folder = project("xgboost-gated", (dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, "modeldrop.json"), "utf8"));
      manifest.train.entrypoint = "train.py";
      writeFileSync(join(dir, "modeldrop.json"), JSON.stringify(manifest));
    });

    const push = pushCode(api, folder, "typo-project");

    await expect(push).rejects.toThrow(CliError);
    await expect(push).rejects.toThrow(/train\.entrypoint is not a known key/);
    await expect(api.call(CodeDetail, "GET", "/code/typo-project")).rejects.toThrow(
      /no code named typo-project/,
    );
  });

  it("gives back the same version for the same files, and a new one for changed files", async () => {
    const first = await pushCode(api, project("xgboost-gated"), "xgb-versions");
    const again = await pushCode(api, project("xgboost-gated"), "xgb-versions");
    const changed = await pushCode(
      api,
      project("xgboost-gated", (dir) => writeFileSync(join(dir, "NOTES.md"), "tuned\n")),
      "xgb-versions",
    );

    expect(first.created).toBe(true);
    expect(again).toMatchObject({
      created: false,
      version: { version: 1, sha256: first.version.sha256 },
    });
    expect(changed.version).toMatchObject({ version: 2 });
    expect(changed.version.sha256).not.toBe(first.version.sha256);
    expect(await keys(`code/${first.version.sha256}/`)).toEqual([
      `code/${first.version.sha256}/sourcedir.tar.gz`,
    ]);
  });

  it("refuses at intake a drop naming code that is not registered, with one notice", async () => {
    const id = await drop(api, dataFor("xgboost-gated", "binary.csv"), {
      code: { name: "never-pushed" },
    });
    const run = await ended(id);

    expect(run.status).toBe("FAILED");
    expect(run.failure).toMatchObject({ step: "intake", error: "CodeNotFound" });
    expect(run.failure?.reason).toContain("no code named never-pushed is registered");
    expect(emailsFor(run.id)).toHaveLength(1);
  });
});
