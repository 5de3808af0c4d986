import { describe, expect, it } from "vitest";
import {
  decideGate,
  type Evaluation,
  EvaluationInvalid,
  headlineMetrics,
  METRIC_THRESHOLDS,
  parseEvaluation,
} from "../../core/evaluation.js";
import { InvalidOptions, parseRunOptions } from "../../core/options.js";

type Task = Evaluation["modeldrop"]["task"];

const SECTION: Record<Task, string> = {
  binary: "binary_classification_metrics",
  multiclass: "multiclass_classification_metrics",
  image_classification: "multiclass_classification_metrics",
  regression: "regression_metrics",
};

/** evaluation.json as the evaluate job writes it, with the given `{value}` metrics. */
function evaluationJson(task: Task, metrics: Record<string, number>): Record<string, unknown> {
  return {
    [SECTION[task]]: Object.fromEntries(
      Object.entries(metrics).map(([name, value]) => [name, { value, standard_deviation: 0.01 }]),
    ),
    modeldrop: { task, target: "y", test_rows: 150, algorithm: "xgboost" },
  };
}

const evaluation = (task: Task, metrics: Record<string, number>) =>
  parseEvaluation(evaluationJson(task, metrics));

describe("the quality gate", () => {
  it("passes a higher-is-better metric that equals its threshold", () => {
    const gate = decideGate(evaluation("binary", { accuracy: 0.8 }), {
      metric: "accuracy",
      threshold: 0.8,
    });

    expect(gate).toEqual({
      metric: "accuracy",
      threshold: 0.8,
      value: 0.8,
      direction: "higher",
      passed: true,
    });
  });

  it("fails a higher-is-better metric below its threshold", () => {
    const gate = decideGate(evaluation("binary", { f1: 0.79 }), { metric: "f1", threshold: 0.8 });

    expect(gate.passed).toBe(false);
  });

  it.each([
    ["rmse", "regression"],
    ["mae", "regression"],
    ["log_loss", "binary"],
  ] as const)("treats %s as lower-is-better: equal to the threshold passes", (metric, task) => {
    const gate = decideGate(evaluation(task, { [metric]: 0.35 }), { metric, threshold: 0.35 });

    expect(gate).toMatchObject({ direction: "lower", passed: true });
  });

  it.each([
    ["rmse", "regression"],
    ["mae", "regression"],
    ["log_loss", "binary"],
  ] as const)("treats %s as lower-is-better: above the threshold fails", (metric, task) => {
    const gate = decideGate(evaluation(task, { [metric]: 0.36 }), { metric, threshold: 0.35 });

    expect(gate).toMatchObject({ direction: "lower", passed: false });
  });

  it("refuses a threshold its metric cannot reach even when intake did not check it", () => {
    // A run recorded before intake refused such thresholds (intake now would).
    const options = { threshold: -0.5 };

    expect(() => decideGate(evaluation("binary", { roc_auc: 0.9 }), options)).toThrow(
      new InvalidOptions(
        "threshold",
        "option threshold: -0.5 is outside the range of roc_auc, [0, 1]",
      ),
    );
  });

  it.each([
    ["binary", "roc_auc", 0.6],
    ["multiclass", "accuracy", 0.5],
    ["image_classification", "accuracy", 0.5],
    ["regression", "r2", 0.1],
  ] as const)(
    "gates a %s run on %s >= %s when its options name no metric",
    (task, metric, threshold) => {
      const all = { accuracy: 0.7, roc_auc: 0.7, r2: 0.7, rmse: 0.7 };

      const gate = decideGate(evaluation(task, all), {});

      expect(gate).toMatchObject({ metric, threshold, direction: "higher", passed: true });
    },
  );

  it("uses the run's own threshold over the default", () => {
    const gate = decideGate(evaluation("binary", { roc_auc: 0.7 }), { threshold: 0.75 });

    expect(gate).toMatchObject({ metric: "roc_auc", threshold: 0.75, passed: false });
  });

  it("refuses a gate metric the task does not report, naming the ones it does", () => {
    const binary = evaluation("binary", { accuracy: 0.9, roc_auc: 0.8 });

    expect(() => decideGate(binary, { metric: "rmse", threshold: 1 })).toThrow(
      new EvaluationInvalid(
        "the quality-gate metric rmse does not apply to a binary task; choose one of accuracy, roc_auc",
      ),
    );
  });
});

describe("reading evaluation.json", () => {
  it("reads every {value} metric of the task's section, skipping other entries", () => {
    const json = {
      multiclass_classification_metrics: {
        accuracy: { value: 0.93, standard_deviation: 0.01 },
        f1: { value: 0.9, standard_deviation: null },
        confusion_matrix: { cat: { cat: 3, dog: 1 }, dog: { cat: 0, dog: 4 } },
      },
      modeldrop: { task: "multiclass", test_rows: 8, algorithm: "xgboost" },
    };

    expect(headlineMetrics(parseEvaluation(json))).toEqual({ accuracy: 0.93, f1: 0.9 });
  });

  it("rejects a file without its modeldrop section, naming what is missing", () => {
    const json = evaluationJson("binary", { accuracy: 0.9 });
    delete json.modeldrop;

    expect(() => parseEvaluation(json)).toThrow(
      /^evaluation\.json does not have the expected layout: modeldrop: /,
    );
  });

  it("rejects a negative test row count, naming the field", () => {
    const json = evaluationJson("binary", { accuracy: 0.9 });
    json.modeldrop = { task: "binary", test_rows: -1, algorithm: "xgboost" };

    expect(() => parseEvaluation(json)).toThrow(/expected layout: modeldrop\.test_rows: Too small/);
  });

  it("rejects a task modeldrop does not know", () => {
    const json = evaluationJson("binary", { accuracy: 0.9 });
    json.modeldrop = { task: "clustering", test_rows: 10, algorithm: "kmeans" };

    expect(() => parseEvaluation(json)).toThrow(EvaluationInvalid);
    expect(() => parseEvaluation(json)).toThrow(/modeldrop\.task/);
  });

  it("rejects a file that is not an object with an error that still reads as a sentence", () => {
    expect(() => parseEvaluation([])).toThrow(
      /^evaluation\.json does not have the expected layout: the file: Invalid input: expected object, received array$/,
    );
  });
});

describe("a gate whose options name only the metric", () => {
  it("uses that metric's own floor, not the task default's threshold", () => {
    const evaluation = {
      binary_classification_metrics: { f1: { value: 0.55, standard_deviation: 0.01 } },
      modeldrop: { task: "binary" as const, test_rows: 10, algorithm: "xgboost" },
    };

    const gate = decideGate(evaluation, { metric: "f1" });

    expect(gate).toMatchObject({ metric: "f1", threshold: METRIC_THRESHOLDS.f1, passed: true });
  });

  it("refuses rmse without a threshold at intake, naming the threshold", () => {
    expect(() => parseRunOptions({ metric: "rmse" })).toThrow(/threshold.*units/);
  });
});
