// The run report in a real browser, built from real job outputs: preprocess, train and evaluate
// run on a small generated CSV (as README's "Run the jobs by hand"), the report is rendered from
// what they wrote, and Chromium opens it offline. A screenshot lands in test/artifacts/.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCost } from "../../core/cost.js";
import { decideGate, headlineMetrics, parseEvaluation } from "../../core/evaluation.js";
import type { RunOptions } from "../../core/options.js";
import { imageUri } from "../../core/pipeline-input.js";
import { renderReport, reportInputs } from "../../core/report/index.js";
import type { Run, StepTiming } from "../../core/run-record.js";
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from "../chromium.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const ARTIFACTS = join(ROOT, "test", "artifacts");
const HOSTILE_COLUMN = "<script>alert(1)</script>";
const DATASET = 'customers <Q3> & "churn".csv';
const ROWS = 300;

const SKIP = chromiumMissing();
if (SKIP) console.warn(`report browser test skipped: ${SKIP}`);

/** Seeded, so the data and so the metrics are the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Churn that depends on tenure and price with noise (so the metrics are not all 1), a constant
 * column with a hostile name (dropped), an id (dropped), a blank header (renamed), a plan with
 * missing values, and one malformed row (skipped).
 */
function churnCsv(): string {
  const next = random(7);
  const lines = [`customer_id,tenure,monthly,plan,${HOSTILE_COLUMN},,churn`];
  for (let i = 0; i < ROWS; i++) {
    const tenure = Math.floor(next() * 72);
    const monthly = 20 + next() * 80;
    const plan = ["basic", "pro", "team", ""][Math.floor(next() * 4)];
    const risk = 1.5 - tenure / 24 + (monthly - 60) / 30 + (next() - 0.5) * 2.5;
    lines.push(
      `${1000 + i},${tenure},${monthly.toFixed(2)},${plan},7,${next().toFixed(3)},${risk > 0 ? "yes" : "no"}`,
    );
    if (i === 150) lines.push("1,2,3");
  }
  return `${lines.join("\n")}\n`;
}

function timed<T>(act: () => T): {
  result: T;
  startedAt: string;
  endedAt: string;
  seconds: number;
} {
  const start = Date.now();
  const result = act();
  const end = Date.now();
  return {
    result,
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(end).toISOString(),
    seconds: Math.max(1, Math.round((end - start) / 1000)),
  };
}

describe.skipIf(SKIP)(`the report in a browser${SKIP ? ` (skipped: ${SKIP})` : ""}`, () => {
  let work: string;
  let reportFile: string;
  let screenshot: string;
  let run: Run;
  let evaluationJson: ReturnType<typeof parseEvaluation>;
  let plotNames: string[];
  let context: BrowserContext;
  const requests: string[] = [];
  const dialogs: string[] = [];
  let bodyText: string;
  let metricsText: string;
  let images: { alt: string; complete: boolean; naturalWidth: number }[];
  let scripts: number;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "modeldrop-report-"));
    const optMl = join(work, "opt-ml");
    const csv = join(work, "churn.csv");
    writeFileSync(csv, churnCsv());
    const options: RunOptions = {
      target: "churn",
      threshold: 0.7,
      hyperparameters: { num_round: 25 },
    };
    const job = (module: string, args: string[]) =>
      timed(() =>
        execFileSync(PYTHON, ["-m", `modeldrop_ml.${module}`, ...args], {
          env: { ...process.env, MODELDROP_OPT_ML: optMl },
          stdio: "pipe",
        }),
      );
    const processed = join(optMl, "processing", "output", "processed");
    const started = new Date().toISOString();
    const preprocess = job("preprocess", ["--input", csv, "--options", JSON.stringify(options)]);
    const train = job("train", [
      "--train",
      join(processed, "train"),
      "--validation",
      join(processed, "validation"),
      "--num_round",
      "25",
    ]);
    const evaluate = job("evaluate", [
      "--model",
      join(optMl, "model"),
      "--test",
      join(processed, "test"),
    ]);
    const modelArchive = join(work, "model.tar.gz");
    execFileSync("tar", ["-czf", modelArchive, "-C", join(optMl, "model"), "."]);

    const output = join(optMl, "processing", "output", "evaluation");
    const evaluationText = readFileSync(join(output, "evaluation.json"), "utf8");
    evaluationJson = parseEvaluation(JSON.parse(evaluationText));
    plotNames = readdirSync(join(output, "plots")).filter((name) => name.endsWith(".png"));
    const plots = Object.fromEntries(
      plotNames.map((name) => [name, readFileSync(join(output, "plots", name))]),
    );
    const step = (name: string, kind: string, t: typeof train): StepTiming => ({
      job: `md-customers-q3-churn-0123456789ab-${name}`,
      instanceType: kind,
      startedAt: t.startedAt,
      endedAt: t.endedAt,
      seconds: t.seconds,
    });
    const ended = new Date().toISOString();
    run = {
      id: "customers-q3-churn-0123456789ab",
      kind: "train",
      status: "SUCCEEDED",
      createdAt: started,
      updatedAt: ended,
      endedAt: ended,
      dataset: {
        bucket: "modeldrop-data",
        key: `inbox/${DATASET}`,
        versionId: "3HL4kqtJlcpXroDTDmJ",
        name: DATASET,
        kind: "table",
      },
      options,
      optionsSource: "metadata",
      notes: ["Rendered by test/integration/report.test.ts from real job outputs."],
      steps: {
        preprocess: step("preprocess", "ml.m5.large", preprocess),
        train: step("train", "ml.m5.xlarge", train),
        evaluate: step("evaluate", "ml.m5.large", evaluate),
      },
      metrics: headlineMetrics(evaluationJson),
      gate: decideGate(evaluationJson, options),
      model: { name: "customers-q3-churn", version: 1, approval: "Pending" },
      cost: runCost([
        {
          step: "preprocess",
          kind: "processing",
          instanceType: "ml.m5.large",
          seconds: preprocess.seconds,
        },
        { step: "train", kind: "training", instanceType: "ml.m5.xlarge", seconds: train.seconds },
        {
          step: "evaluate",
          kind: "processing",
          instanceType: "ml.m5.large",
          seconds: evaluate.seconds,
        },
      ]),
      lineage: {
        codeSha256: "5e3a".repeat(16),
        images: {
          processing: imageUri("processing", "us-east-1", "ml.m5.large"),
          training: imageUri("training", "us-east-1", "ml.m5.xlarge"),
        },
        libraries: evaluationJson.modeldrop.model_info?.libraries ?? {},
        algorithm: evaluationJson.modeldrop.algorithm,
      },
    };
    const html = renderReport(
      reportInputs(run, {
        profile: readFileSync(join(processed, "profile.json"), "utf8"),
        evaluation: evaluationText,
        modelArchive: readFileSync(modelArchive),
        plots,
      }),
    );
    reportFile = join(work, "report.html");
    writeFileSync(reportFile, html);

    context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (request) => requests.push(request.url()));
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(pathToFileURL(reportFile).href, { waitUntil: "load" });
    // innerText, not textContent: the assertions are about what a reader sees on the page.
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point
    bodyText = await page.innerText("body");
    // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point
    metricsText = await page.innerText("#metrics");
    images = await page.$$eval("img", (all) =>
      all.map((img) => ({ alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth })),
    );
    scripts = await page.evaluate(() => document.scripts.length);
    screenshot = join(work, "report.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    copyFileSync(screenshot, join(ARTIFACTS, "report.png"));
    copyFileSync(reportFile, join(ARTIFACTS, "report.html"));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    // The screenshot and the page stay in test/artifacts/; the jobs' outputs and the browser
    // profile go.
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("shows every test metric and the gate's threshold as text", () => {
    for (const [name, value] of Object.entries(run.metrics ?? {})) {
      expect(metricsText).toContain(name);
      expect(metricsText).toContain(value.toFixed(4));
    }
    expect(metricsText).toContain(`threshold ${run.gate?.threshold}`);
    expect(metricsText).toMatch(run.gate?.passed ? /Gate passed/ : /Gate not met/);
  });

  it("loads every plot evaluate drew, from data: URIs", () => {
    expect(plotNames.length).toBeGreaterThanOrEqual(4);
    expect(images).toHaveLength(plotNames.length);
    for (const image of images) {
      expect(image.complete, image.alt).toBe(true);
      expect(image.naturalWidth, image.alt).toBeGreaterThan(0);
    }
  });

  it("asks the network for nothing", () => {
    expect(requests.filter((url) => !url.startsWith("file:") && !url.startsWith("data:"))).toEqual(
      [],
    );
  });

  it("shows the hostile column and dataset names as text and runs no script", () => {
    expect(bodyText).toContain(HOSTILE_COLUMN);
    expect(bodyText).toContain(DATASET);
    expect(scripts).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("shows what preprocess inferred and what the training history says", () => {
    expect(bodyText).toContain("ID-like: whole numbers unique to every row, named like an id");
    expect(bodyText).toContain("constant (a single value)");
    expect(bodyText).toMatch(/\(blank #6\)\s*→\s*column_6/);
    expect(bodyText).toContain("1 row skipped: wrong number of fields.");
    expect(bodyText).toMatch(/25 boosting rounds; best round \d+/);
  });

  it("saves a screenshot", () => {
    expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe("PNG");
    expect(existsSync(join(ARTIFACTS, "report.png"))).toBe(true);
    expect(existsSync(join(ARTIFACTS, "report.html"))).toBe(true);
  });
});
