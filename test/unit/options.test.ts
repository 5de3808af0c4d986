import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidOptions, parseRunOptions } from "../../core/options.js";
import { OPTIONS_SCHEMA_PATH, renderOptionsSchema } from "../../core/write-options-schema.js";

describe("run options", () => {
  it("accepts a zero-configuration drop", () => {
    expect(parseRunOptions({})).toEqual({});
  });

  it("accepts every documented option", () => {
    const options = {
      target: "churn",
      task: "binary",
      modelName: "churn-model",
      algorithm: "xgboost",
      hyperparameters: { max_depth: 4, learning_rate: 0.05, num_round: 200 },
      ignoreColumns: ["customer_id"],
      split: { validation: 0.2, test: 0.2, seed: 7 },
      instanceTypes: {
        processing: "ml.m5.large",
        training: "ml.g5.xlarge",
        transform: "ml.m5.large",
      },
      metric: "roc_auc",
      threshold: 0.8,
      manualApproval: true,
      maxRuntimeSeconds: { training: 7200 },
      preset: "best",
      timeBudgetSeconds: 600,
      maxParallelJobs: 2,
    };
    expect(parseRunOptions(options)).toEqual(options);
  });

  it.each([
    [{ preset: "slow" }, "preset"],
    [{ timeBudgetSeconds: 5 }, "timeBudgetSeconds"],
    [{ maxParallelJobs: 0 }, "maxParallelJobs"],
  ])("names a bad search option (%j)", (options, field) => {
    expect(() => parseRunOptions(options)).toThrow(expect.objectContaining({ field }));
  });

  it("refuses a hyperparameter the named algorithm does not take, naming those that do", () => {
    expect(() =>
      parseRunOptions({ algorithm: "linear", hyperparameters: { num_leaves: 15 } }),
    ).toThrow(
      new InvalidOptions(
        "hyperparameters.num_leaves",
        "option hyperparameters.num_leaves: does not apply to linear (it applies to lightgbm)",
      ),
    );
  });

  it("refuses a hyperparameter no candidate of the preset takes", () => {
    expect(() =>
      parseRunOptions({ preset: "fast", hyperparameters: { n_estimators: 100 } }),
    ).toThrow(
      "option hyperparameters.n_estimators: does not apply to the fast preset's candidates (lightgbm, linear, resnet18) (it applies to random_forest, extra_trees)",
    );
  });

  it("names an unknown option", () => {
    expect(() => parseRunOptions({ targte: "y" })).toThrow(
      new InvalidOptions("targte", "option targte is not a known option"),
    );
  });

  it("names the nested field of an invalid value", () => {
    try {
      parseRunOptions({ hyperparameters: { max_depth: 0 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptions);
      expect((error as InvalidOptions).field).toBe("hyperparameters.max_depth");
      expect((error as InvalidOptions).message).toMatch(/^option hyperparameters.max_depth: /);
    }
  });

  it("rejects an instance type that SageMaker would not accept", () => {
    expect(() => parseRunOptions({ instanceTypes: { training: "m5.xlarge" } })).toThrow(
      /instanceTypes.training/,
    );
  });

  it("ships the same JSON Schema to the Python jobs (run npm run schema after a change)", () => {
    expect(readFileSync(OPTIONS_SCHEMA_PATH, "utf8")).toBe(renderOptionsSchema());
  });
});

describe("the size of the options", () => {
  it("refuses options too large to travel in the execution input", () => {
    const options = {
      ignoreColumns: Array.from({ length: 200 }, (_, i) => `${"c".repeat(200)}${i}`),
    };

    expect(() => parseRunOptions(options)).toThrow(/at most 32768/);
  });
});

describe("options the pipeline does not carry out yet", () => {
  it("refuses notify and pretrainedWeights instead of ignoring them", () => {
    expect(() => parseRunOptions({ notify: { slack: false } })).toThrow(
      /notify is not supported yet/,
    );
    expect(() => parseRunOptions({ pretrainedWeights: "weights/r18.pt" })).toThrow(
      /pretrainedWeights is not supported yet/,
    );
  });
});

describe("quality-gate thresholds", () => {
  const refusal = (options: Record<string, unknown>) => {
    try {
      parseRunOptions(options);
    } catch (error) {
      if (error instanceof InvalidOptions) return { field: error.field, message: error.message };
      throw error;
    }
    return undefined;
  };

  it.each([
    [{ metric: "roc_auc", threshold: -5 }, "-5 is outside the range of roc_auc, [0, 1]"],
    [{ metric: "accuracy", threshold: 2 }, "2 is outside the range of accuracy, [0, 1]"],
    [{ metric: "r2", threshold: 1.5 }, "1.5 is outside the range of r2, <= 1"],
    [{ metric: "log_loss", threshold: -0.1 }, "-0.1 is outside the range of log_loss, >= 0"],
    [{ metric: "rmse", threshold: -1 }, "-1 is outside the range of rmse, >= 0"],
    [{ task: "binary", threshold: 1.2 }, "1.2 is outside the range of roc_auc, [0, 1]"],
    [{ threshold: 3 }, "3 is outside the range of roc_auc, [0, 1]"],
  ])("refuses the impossible gate %j naming the threshold and the range", (options, words) => {
    expect(refusal(options)).toEqual({
      field: "threshold",
      message: expect.stringContaining(words),
    });
  });

  it("refuses a metric the named task does not report", () => {
    expect(refusal({ task: "regression", metric: "accuracy" })).toEqual({
      field: "metric",
      message:
        "option metric: accuracy is not reported for a regression task; choose one of rmse, mae, r2",
    });
  });

  it.each([
    { metric: "roc_auc", threshold: 0 },
    { metric: "accuracy", threshold: 1 },
    { metric: "r2", threshold: -0.5 },
    { metric: "mae", threshold: 12.5 },
    { threshold: 0.7 },
  ])("accepts the possible gate %j", (options) => {
    expect(parseRunOptions(options)).toEqual(options);
  });
});
