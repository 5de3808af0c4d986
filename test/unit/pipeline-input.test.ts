import { describe, expect, it } from "vitest";
import type { RunOptions } from "../../core/options.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import { jobSpecs } from "../../core/pipeline-state.js";
import type { DatasetKind } from "../../core/run-record.js";

const CODE_SHA = "c0ffee".padEnd(64, "0");

const inputFor = (kind: DatasetKind, options: RunOptions = {}) =>
  pipelineInput({
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
    const { train } = inputFor("images").jobs;

    expect(train.instanceType).toBe("ml.g5.xlarge");
    expect(train.image).toMatch(/pytorch-training:.*-gpu-/);
  });

  it("trains a table on a CPU instance in the CPU image by default", () => {
    const { train } = inputFor("table").jobs;

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
    expect(jobs.train).toMatchObject({
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

    expect(input.jobs.train.maxRuntimeSeconds).toBe(7_200);
    expect(input.processing[0]?.job.maxRuntimeSeconds).toBe(600);
    expect(input.evaluation.job.maxRuntimeSeconds).toBe(600);
  });

  it("stops jobs after 1 h of processing or transform and 24 h of training by default", () => {
    const input = inputFor("table");

    expect(
      Object.fromEntries(
        Object.entries(jobSpecs({ ...input, steps: {} })).map(([step, job]) => [
          step,
          job.maxRuntimeSeconds,
        ]),
      ),
    ).toEqual({ preprocess: 3_600, train: 86_400, evaluate: 3_600, transform: 3_600 });
  });

  it("passes hyperparameters to SageMaker as strings, with the script-mode entries", () => {
    const input = inputFor("table", {
      algorithm: "xgboost",
      hyperparameters: { max_depth: 4, learning_rate: 0.05, num_round: 200 },
    });

    expect(input.hyperParameters).toEqual({
      sagemaker_program: "train.py",
      sagemaker_submit_directory: `s3://modeldrop-data/code/${CODE_SHA}/sourcedir.tar.gz`,
      algorithm: "xgboost",
      max_depth: "4",
      learning_rate: "0.05",
      num_round: "200",
    });
  });

  it("names every job and the model after the run", () => {
    const input = inputFor("table");

    expect(Object.values(jobSpecs({ ...input, steps: {} })).map((job) => job.name)).toEqual([
      "md-churn-data-3f2a9c1b0d4e-preprocess",
      "md-churn-data-3f2a9c1b0d4e-train",
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
