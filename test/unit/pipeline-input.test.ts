import { describe, expect, it } from "vitest";
import type { RunOptions } from "../../core/options.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import { jobSpecs } from "../../core/pipeline-state.js";
import type { DatasetKind } from "../../core/run-record.js";

const CODE_SHA = "c0ffee".padEnd(64, "0");

const argsFor = (kind: DatasetKind, options: RunOptions = {}) => ({
  runId: "churn-data-3f2a9c1b0d4e",
  bucket: "modeldrop-data",
  region: "eu-west-1",
  source: {
    key: kind === "images" ? "inbox/digits.zip" : "inbox/churn data.csv",
    versionId: "v1",
  },
  kind,
  options,
  codeSha256: CODE_SHA,
});

const inputFor = (kind: DatasetKind, options: RunOptions = {}) =>
  pipelineInput(argsFor(kind, options));

/** The first training job: the only one for images or a pinned algorithm. */
const trainJob = (input: ReturnType<typeof inputFor>) => {
  const first = input.training.candidates[0];
  if (!first) throw new Error("no training job");
  return first;
};

const EVERY_OPTION: RunOptions = {
  target: "churn",
  task: "binary",
  modelName: "churn-model",
  algorithm: "xgboost",
  hyperparameters: { max_depth: 4, learning_rate: 0.05, num_round: 200, subsample: 0.8, seed: 7 },
  ignoreColumns: Array.from({ length: 100 }, (_, i) => `customer_attribute_column_${i}`),
  split: { validation: 0.2, test: 0.2, seed: 7 },
  instanceTypes: { processing: "ml.m5.large", training: "ml.g5.xlarge", transform: "ml.m5.large" },
  maxRuntimeSeconds: { processing: 600, training: 7_200, transform: 900 },
  metric: "roc_auc",
  threshold: 0.8,
  manualApproval: true,
  notify: { email: ["ml-team@example.com", "oncall@example.com"], slack: true },
};

describe("the training pipeline's execution input", () => {
  it("is the same for the same run, so a second start is answered idempotently", () => {
    expect(inputFor("table", EVERY_OPTION)).toEqual(inputFor("table", EVERY_OPTION));
  });

  it("trains an image dataset on a GPU instance in the GPU image by default", () => {
    const train = trainJob(inputFor("images")).job;

    expect(train.instanceType).toBe("ml.g5.xlarge");
    expect(train.image).toMatch(/pytorch-training:.*-gpu-/);
  });

  it("trains a table on a CPU instance in the CPU image by default", () => {
    const train = trainJob(inputFor("table")).job;

    expect(train.instanceType).toBe("ml.m5.xlarge");
    expect(train.image).toMatch(/pytorch-training:.*-cpu-/);
  });

  it("runs each job on the instance type its options name, in the image that suits it", () => {
    const input = inputFor("table", {
      instanceTypes: {
        processing: "ml.c5.xlarge",
        training: "ml.g4dn.xlarge",
        transform: "ml.m5.large",
      },
    });
    const { jobs } = input;

    expect(input.processing[0]?.job.instanceType).toBe("ml.c5.xlarge");
    expect(input.evaluation.job.instanceType).toBe("ml.c5.xlarge");
    expect(trainJob(input).job).toMatchObject({
      instanceType: "ml.g4dn.xlarge",
      image: expect.stringContaining("-gpu-"),
    });
    expect(jobs.transform).toMatchObject({
      instanceType: "ml.m5.large",
      image: expect.stringContaining("pytorch-inference:"),
    });
  });

  it("stops each job after the runtime its options allow", () => {
    const input = inputFor("table", { maxRuntimeSeconds: { training: 7_200, processing: 600 } });

    for (const candidate of input.training.candidates)
      expect(candidate.job.maxRuntimeSeconds).toBe(7_200);
    expect(input.processing[0]?.job.maxRuntimeSeconds).toBe(600);
    expect(input.evaluation.job.maxRuntimeSeconds).toBe(600);
  });

  it("stops jobs after 1 h of processing or transform, and a candidate at twice its share of the budget plus 15 min", () => {
    const input = inputFor("table");

    expect(
      Object.fromEntries(
        Object.entries(jobSpecs({ ...input, steps: {} })).map(([step, job]) => [
          step,
          job.maxRuntimeSeconds,
        ]),
      ),
    ).toEqual({
      preprocess: 3_600,
      "train-xgboost": 1_140,
      "train-lightgbm": 1_140,
      "train-extra-trees": 1_140,
      "train-linear": 1_140,
      select: 3_600,
      evaluate: 3_600,
      transform: 3_600,
    });
  });

  it("trains an image run's one model for as long as training may take (24 h)", () => {
    expect(trainJob(inputFor("images")).job.maxRuntimeSeconds).toBe(86_400);
  });

  it("passes hyperparameters to SageMaker as strings, with the script-mode entries", () => {
    const input = inputFor("table", {
      algorithm: "xgboost",
      hyperparameters: { max_depth: 4, learning_rate: 0.05, num_round: 200 },
    });

    expect(trainJob(input).hyperParameters).toEqual({
      sagemaker_program: "train.py",
      sagemaker_submit_directory: `s3://modeldrop-data/code/${CODE_SHA}/sourcedir.tar.gz`,
      algorithm: "xgboost",
      time_budget_seconds: "120",
      max_depth: "4",
      learning_rate: "0.05",
      num_round: "200",
    });
  });

  it("searches the balanced preset's four candidates side by side, each within its share of the budget", () => {
    const input = pipelineInput({ ...argsFor("table", { metric: "log_loss" }), parallelJobs: 2 });

    expect(input.training.candidates.map((c) => [c.step, c.optional])).toEqual([
      ["train-xgboost", true],
      ["train-lightgbm", true],
      ["train-extra-trees", true],
      ["train-linear", true],
    ]);
    expect(input.training.maxParallel).toBe(2);
    // two at a time: two rounds of the 120 s budget, 60 s each
    expect(input.training.candidates.map((c) => c.hyperParameters.time_budget_seconds)).toEqual([
      "60",
      "60",
      "60",
      "60",
    ]);
    expect(trainJob(input).hyperParameters.metric).toBe("log_loss");
    expect(input.selection?.inputs.map((i) => i.InputName)).toEqual([
      "entrypoint",
      "code",
      "train-xgboost",
      "train-lightgbm",
      "train-extra-trees",
      "train-linear",
    ]);
    expect(input.paths.model).toBe(
      "s3://modeldrop-data/runs/churn-data-3f2a9c1b0d4e/model/model.tar.gz",
    );
  });

  it("runs the fast preset's candidates, with a run's own budget and parallel limit", () => {
    const input = inputFor("table", { preset: "fast", timeBudgetSeconds: 30, maxParallelJobs: 1 });

    expect(input.training.candidates.map((c) => c.algorithm)).toEqual(["lightgbm", "linear"]);
    expect(input.training.maxParallel).toBe(1);
    expect(input.training.budgetSeconds).toBe(30);
    expect(trainJob(input).hyperParameters).toMatchObject({
      preset: "fast",
      time_budget_seconds: "15",
    });
    expect(input.selection?.app.ContainerEntrypoint.slice(-2)).toEqual(["--preset", "fast"]);
  });

  it("gives each candidate the pinned hyperparameters that apply to it", () => {
    const input = inputFor("table", { hyperparameters: { max_depth: 4, regularization: 2 } });
    const byAlgorithm = Object.fromEntries(
      input.training.candidates.map((c) => [c.algorithm, c.hyperParameters]),
    );

    expect(byAlgorithm.xgboost?.max_depth).toBe("4");
    expect(byAlgorithm.lightgbm?.max_depth).toBe("4");
    expect(byAlgorithm.linear?.max_depth).toBeUndefined();
    expect(byAlgorithm.linear?.regularization).toBe("2");
    expect(byAlgorithm.xgboost?.regularization).toBeUndefined();
  });

  it("sends a hyperparameter no candidate takes to the first, whose job refuses it by name and fails the run", () => {
    const input = inputFor("table", { hyperparameters: { epochs: 3 } });

    expect(input.training.candidates.map((c) => c.optional)).toEqual([false, true, true, true]);

    expect(input.training.candidates.map((c) => c.hyperParameters.epochs)).toEqual([
      "3",
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("names every job and the model after the run", () => {
    const input = inputFor("table");

    expect(Object.values(jobSpecs({ ...input, steps: {} })).map((job) => job.name)).toEqual([
      "md-churn-data-3f2a9c1b0d4e-preprocess",
      "md-churn-data-3f2a9c1b0d4e-train-xgboost",
      "md-churn-data-3f2a9c1b0d4e-train-lightgbm",
      "md-churn-data-3f2a9c1b0d4e-train-extra-trees",
      "md-churn-data-3f2a9c1b0d4e-train-linear",
      "md-churn-data-3f2a9c1b0d4e-select",
      "md-churn-data-3f2a9c1b0d4e-evaluate",
      "md-churn-data-3f2a9c1b0d4e-transform",
    ]);
    expect(input.model).toEqual({
      name: "churn-data",
      sageMakerName: "md-churn-data-3f2a9c1b0d4e-model",
      manualApproval: false,
    });
  });

  it("writes every output under the run's folder, never under inbox/", () => {
    const input = inputFor("table");

    const outputs = [...Object.values(input.paths), input.batch?.input ?? ""];

    for (const location of outputs)
      expect(location).toMatch(/^(s3:\/\/modeldrop-data\/)?runs\/churn-data-3f2a9c1b0d4e\//);
  });

  it("stays far below Step Functions' 256 KiB state limit with every option set", () => {
    const bytes = Buffer.byteLength(JSON.stringify(inputFor("table", EVERY_OPTION)));

    expect(bytes).toBeLessThan(16 * 1024);
  });
});
