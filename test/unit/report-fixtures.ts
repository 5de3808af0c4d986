/** Runs and job outputs for the report tests: shaped as the pipeline and the ml jobs write them. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCost } from "../../core/cost.js";
import type { Evaluation } from "../../core/evaluation.js";
import type { Profile, TrainingHistory } from "../../core/report/index.js";
import type { Run, StepTiming } from "../../core/run-record.js";

export const HOSTILE_COLUMN = "<script>alert(1)</script>";

/** A 1×1 transparent PNG. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

const T0 = Date.parse("2026-11-02T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** The steps a finished run records, seconds after its start. */
function timings(steps: Record<string, [number, number, string]>): Record<string, StepTiming> {
  return Object.fromEntries(
    Object.entries(steps).map(([step, [start, end, instanceType]]) => [
      step,
      {
        job: `md-churn-3f2a9c1b0d4e-${step}`,
        instanceType,
        startedAt: at(start),
        endedAt: at(end),
        seconds: end - start,
      },
    ]),
  );
}

const baseRun: Run = {
  id: "churn-3f2a9c1b0d4e",
  kind: "train",
  status: "QUEUED",
  createdAt: at(0),
  updatedAt: at(0),
  dataset: {
    bucket: "modeldrop-data",
    key: "inbox/churn.csv",
    versionId: "v1",
    name: "churn.csv",
    kind: "table",
  },
  options: {},
  optionsSource: "none",
  notes: [],
};

export function succeededRun(fields: Partial<Run> = {}): Run {
  const steps = timings({
    preprocess: [4, 40, "ml.m5.large"],
    train: [46, 160, "ml.m5.xlarge"],
    evaluate: [166, 200, "ml.m5.large"],
    transform: [214, 290, "ml.m5.large"],
  });
  return {
    ...baseRun,
    status: "SUCCEEDED",
    updatedAt: at(300),
    endedAt: at(300),
    options: { target: "churn", threshold: 0.7 },
    optionsSource: "metadata",
    executionArn:
      "arn:aws:states:us-east-1:123456789012:execution:training-pipeline:churn-3f2a9c1b0d4e",
    steps,
    metrics: { accuracy: 0.86, roc_auc: 0.9123 },
    gate: { metric: "roc_auc", threshold: 0.7, value: 0.9123, direction: "higher", passed: true },
    model: {
      name: "churn",
      version: 3,
      approval: "Approved",
      artifact: "s3://modeldrop-data/runs/churn-3f2a9c1b0d4e/jobs/train/output/model.tar.gz",
    },
    cost: runCost([
      { step: "preprocess", kind: "processing", instanceType: "ml.m5.large", seconds: 36 },
      { step: "train", kind: "training", instanceType: "ml.m5.xlarge", seconds: 110 },
      { step: "evaluate", kind: "processing", instanceType: "ml.m5.large", seconds: 34 },
      { step: "transform", kind: "transform", instanceType: "ml.q9.huge", seconds: 76 },
    ]),
    lineage: {
      codeSha256: "c0de".repeat(16),
      images: {
        processing: "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",
      },
      libraries: { xgboost: "3.2.0", "scikit-learn": "1.9.1" },
      algorithm: "xgboost",
    },
    predictions: "s3://modeldrop-data/runs/churn-3f2a9c1b0d4e/predictions/",
    notes: ["A sidecar churn.modeldrop.json arrived after the data and was not applied."],
    ...fields,
  };
}

export function failedAtPreprocess(fields: Partial<Run> = {}): Run {
  return {
    ...baseRun,
    status: "FAILED",
    updatedAt: at(20),
    endedAt: at(20),
    failure: {
      step: "preprocess",
      error: "SageMaker.AmazonSageMakerException",
      reason:
        "churn.csv has a single column ('a;b'); a table needs a target and at least one feature.",
      log: {
        group: "/aws/sagemaker/ProcessingJobs",
        streamPrefix: "md-churn-3f2a9c1b0d4e-preprocess/",
      },
    },
    steps: {},
    cost: runCost([]),
    lineage: { codeSha256: "c0de".repeat(16) },
    ...fields,
  };
}

export function profile(extraColumn = HOSTILE_COLUMN): Profile {
  return {
    dataset: "churn.csv",
    format: "csv",
    encoding: "utf-8",
    delimiter: ",",
    rows: 1203,
    rows_used: 1200,
    malformed_rows_skipped: 3,
    renamed_columns: { "(blank #6)": "column_6" },
    columns: [
      {
        name: "tenure",
        type: "int64",
        role: "numeric",
        missing_pct: 0,
        distinct: 72,
        min: 0,
        max: 72,
        mean: 32.4,
        std: 24.6,
      },
      {
        name: "plan",
        type: "string",
        role: "categorical",
        missing_pct: 12.5,
        distinct: 3,
        top_values: { basic: 600, pro: 400, team: 50 },
      },
      {
        name: extraColumn,
        type: "int64",
        role: "dropped",
        missing_pct: 0,
        distinct: 1,
        min: 7,
        max: 7,
      },
      { name: "column_6", type: "double", role: "numeric", missing_pct: 0, distinct: 900 },
      {
        name: "churn",
        type: "string",
        role: "target",
        missing_pct: 0,
        distinct: 2,
        top_values: { no: 900, yes: 300 },
      },
    ],
    target: {
      name: "churn",
      task: "binary",
      classes: ["no", "yes"],
      balance: { counts: { no: 900, yes: 300 }, fractions: { no: 0.75, yes: 0.25 } },
    },
    inferences: [
      { what: "target", value: "churn", why: "set by the target option" },
      { what: "task", value: "binary", why: "target 'churn' holds 2 distinct non-numeric values" },
      { what: "column tenure", value: "numeric", why: "numbers" },
      { what: "column plan", value: "categorical", why: "text with 3 distinct values" },
      { what: "column column_6", value: "numeric", why: "numbers" },
      { what: `column ${extraColumn}`, value: "dropped", why: "constant (a single value)" },
    ],
    splits: { train: 840, validation: 180, test: 180 },
    split_settings: { validation: 0.15, test: 0.15, seed: 42 },
  };
}

export function evaluation(): Evaluation {
  return {
    binary_classification_metrics: {
      accuracy: { value: 0.86, standard_deviation: 0.021 },
      roc_auc: { value: 0.9123, standard_deviation: 0.0187 },
      log_loss: { value: 0.3141, standard_deviation: 0.04 },
      confusion_matrix: { no: { no: 130, yes: 5 }, yes: { no: 20, yes: 25 } },
    },
    modeldrop: {
      task: "binary",
      target: "churn",
      classes: ["no", "yes"],
      test_rows: 180,
      algorithm: "xgboost",
      model_info: { libraries: { xgboost: "3.2.0" }, hyperparameters: { num_round: 50 } },
    },
  };
}

export function history(): TrainingHistory {
  return {
    algorithm: "xgboost",
    metric: "logloss",
    rounds: [
      { round: 1, train: 0.6, validation: 0.62 },
      { round: 2, train: 0.5, validation: 0.55 },
      { round: 3, train: 0.42, validation: 0.51 },
    ],
    best_round: 3,
    best_validation: 0.51,
    parameters: { max_depth: 6, eta: 0.1 },
    device: "cpu",
    train_rows: 840,
    validation_rows: 180,
  };
}

export const ALL_PLOTS = [
  "roc.png",
  "precision_recall.png",
  "confusion_matrix.png",
  "feature_importance.png",
  "training_curve.png",
];

export function plots(names: string[] = ALL_PLOTS): Record<string, Buffer> {
  return Object.fromEntries(names.map((name) => [name, TINY_PNG]));
}

/** One section's visible text (tags stripped, entities decoded), or undefined when absent. */
export function sectionText(html: string, id: string): string | undefined {
  const match = new RegExp(`<section id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  return match ? visibleText(match[1] ?? "") : undefined;
}

export function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&")
    .replace(/\s+/g, " ")
    .replace(/ ([,.:;])/g, "$1")
    .trim();
}

/** A model.tar.gz as `tar` writes it, from files by name. */
export function modelArchive(files: Record<string, string>, format = "gnu"): Buffer {
  const folder = mkdtempSync(join(tmpdir(), "modeldrop-model-"));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(folder, name, ".."), { recursive: true });
    writeFileSync(join(folder, name), body);
  }
  const archive = join(folder, "..", `${folder.split("/").pop()}.tar.gz`);
  execFileSync("tar", [`--format=${format}`, "-czf", archive, "-C", folder, "."]);
  const bytes = readFileSync(archive);
  rmSync(folder, { recursive: true });
  rmSync(archive);
  return bytes;
}

/** A search of two candidates where an ensemble won, one left out, one cut short by the budget. */
export function searchedRun(): Run {
  const run = succeededRun();
  return {
    ...run,
    cost: runCost([
      { step: "train-xgboost", kind: "training", instanceType: "ml.m5.xlarge", seconds: 60 },
      { step: "train-linear", kind: "training", instanceType: "ml.m5.xlarge", seconds: 30 },
    ]),
    steps: {
      ...run.steps,
      "train-xgboost": { startedAt: at(46), endedAt: at(106), seconds: 60 },
      "train-linear": { startedAt: at(46), endedAt: at(76), seconds: 30 },
    },
    search: {
      metric: "roc_auc",
      winner: "ensemble",
      why: "a weighted ensemble of xgboost (60%), linear (40%) scored 0.93 roc_auc on the validation rows, better than the best single candidate, xgboost (0.92)",
      budgetSeconds: 120,
      cutShort: true,
      candidates: [
        {
          algorithm: "xgboost",
          score: 0.92,
          std: 0.013,
          method: "5-fold cross-validation",
          trials: 7,
          stoppedBy: "budget",
          seconds: 58.2,
          hyperparameters: { max_depth: 4, learning_rate: 0.08 },
        },
        {
          algorithm: "linear",
          score: 0.9,
          std: 0.02,
          method: "5-fold cross-validation",
          trials: 12,
          stoppedBy: "trials",
          seconds: 3.1,
          hyperparameters: { regularization: 2.5 },
        },
      ],
      ensemble: { score: 0.93, weights: { xgboost: 0.6, linear: 0.4 }, chosen: true },
      failed: [
        {
          step: "train-lightgbm",
          error: "States.TaskFailed",
          reason: "AlgorithmError: <lightgbm> ran out of memory",
        },
      ],
    },
  };
}
