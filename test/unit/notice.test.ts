import { describe, expect, it } from "vitest";
import { runCost } from "../../core/cost.js";
import { buildNotice } from "../../core/notice.js";
import type { Run } from "../../core/run-record.js";
import { aRun } from "./fakes.js";
import { searchedRun } from "./report-fixtures.js";

const REPORT = "s3://modeldrop-data/runs/churn-data-3f2a9c1b0d4e/report/index.html";
const LONG_NAME = `${"données clients été 2026 … ".repeat(8)}.csv`;

const succeeded = (fields: Partial<Run> = {}): Run =>
  aRun({
    status: "SUCCEEDED",
    endedAt: "2026-11-02T10:05:07.000Z",
    metrics: { accuracy: 0.91, roc_auc: 0.8123 },
    gate: { metric: "roc_auc", threshold: 0.8, value: 0.8123, direction: "higher", passed: true },
    model: { name: "churn-data", version: 3, approval: "Approved" },
    cost: runCost([
      { step: "train", kind: "training", instanceType: "ml.m5.xlarge", seconds: 3600 },
    ]),
    report: REPORT,
    ...fields,
  });

const belowThreshold = (fields: Partial<Run> = {}): Run =>
  succeeded({
    status: "BELOW_THRESHOLD",
    gate: { metric: "roc_auc", threshold: 0.9, value: 0.8123, direction: "higher", passed: false },
    model: { name: "churn-data" },
    ...fields,
  });

const failed = (fields: Partial<Run> = {}): Run =>
  aRun({
    status: "FAILED",
    endedAt: "2026-11-02T10:01:30.000Z",
    failure: {
      step: "train",
      error: "States.TaskFailed",
      reason: "AlgorithmError: column churn has only one class",
      log: {
        group: "/aws/sagemaker/TrainingJobs",
        streamPrefix: "md-churn-data-3f2a9c1b0d4e-train/",
      },
    },
    ...fields,
  });

const stopped = (fields: Partial<Run> = {}): Run =>
  aRun({ status: "STOPPED", endedAt: "2026-11-02T10:02:00.000Z", ...fields });

const longName = (run: Run): Run => ({ ...run, dataset: { ...run.dataset, name: LONG_NAME } });

describe("the notice a run sends when it ends", () => {
  describe("its subject", () => {
    it.each([
      ["a model is ready", succeeded(), "modeldrop: churn data.csv model ready - churn-data v3"],
      [
        "the model is below threshold",
        belowThreshold(),
        "modeldrop: churn data.csv below threshold",
      ],
      ["the run failed, at which step", failed(), "modeldrop: churn data.csv failed at train"],
      ["the run was stopped", stopped(), "modeldrop: churn data.csv stopped"],
    ])("says %s", (_, run, subject) => {
      expect(buildNotice(run).subject).toBe(subject);
    });

    it.each([
      ["model ready - churn-data v3", succeeded()],
      ["below threshold", belowThreshold()],
      ["failed at train", failed()],
      ["stopped", stopped()],
    ])("keeps the outcome '%s' when a long non-ASCII dataset name is shortened", (outcome, run) => {
      const { subject } = buildNotice(longName(run));

      expect(subject.length).toBeLessThanOrEqual(100);
      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(subject).toMatch(/^modeldrop: donnees clients ete 2026 \.\.\. donnees/);
      expect(subject.endsWith(`... ${outcome}`)).toBe(true);
    });

    it("stays on one line when the dataset name holds line breaks and emoji", () => {
      const run = succeeded();
      run.dataset.name = "churn\r\nBcc: everyone@example.com 📈.csv";

      const { subject } = buildNotice(run);

      expect(subject).toMatch(/^[\x20-\x7e]+$/);
      expect(subject).toContain("model ready");
    });
  });

  describe("its body", () => {
    it("names the dataset by its exact object version", () => {
      expect(buildNotice(succeeded()).text).toContain(
        "Dataset: s3://modeldrop-data/inbox/churn data.csv (version v1)",
      );
    });

    it("shows the test metrics against the gate's threshold", () => {
      expect(buildNotice(succeeded()).text).toContain(
        "Test metrics: accuracy 0.9100, roc_auc 0.8123 (gate >= 0.8: passed)",
      );
    });

    it("says which threshold a model below threshold did not reach", () => {
      const { text } = buildNotice(belowThreshold());

      expect(text).toContain("did not reach its quality gate (roc_auc 0.8123, needed >= 0.9)");
      expect(text).toContain("roc_auc 0.8123 (gate >= 0.9: not met)");
    });

    it("shows a lower-is-better gate with <=", () => {
      const run = belowThreshold({
        metrics: { rmse: 4.2, r2: 0.3 },
        gate: { metric: "rmse", threshold: 3, value: 4.2, direction: "lower", passed: false },
      });

      expect(buildNotice(run).text).toContain("rmse 4.2000 (gate <= 3: not met)");
    });

    it("names the registered model and its version", () => {
      expect(buildNotice(succeeded()).text).toContain(
        "registered as churn-data version 3 (Approved)",
      );
    });

    it("says how long the run took", () => {
      expect(buildNotice(succeeded()).text).toContain("Duration: 5 min 7 s");
    });

    it("says what the SageMaker jobs cost and by which price table", () => {
      expect(buildNotice(succeeded()).text).toMatch(
        /^Cost: \$0\.2300 of SageMaker time \(price table of \d{4}-\d{2}-\d{2}\)$/m,
      );
    });

    it("names the instance types it could not price", () => {
      const run = succeeded({
        cost: runCost([
          { step: "train", kind: "training", instanceType: "ml.trn1.2xlarge", seconds: 60 },
        ]),
      });

      expect(buildNotice(run).text).toContain("not priced: ml.trn1.2xlarge");
    });

    it("says where the report is", () => {
      expect(buildNotice(succeeded()).text).toContain(`Report: ${REPORT}`);
    });

    it("on failure, names the step, the reason and where the job's log is", () => {
      const { text } = buildNotice(failed());

      expect(text).toContain("Failed step: train");
      expect(text).toContain("Reason: AlgorithmError: column churn has only one class");
      expect(text).toContain(
        "Log: CloudWatch Logs group /aws/sagemaker/TrainingJobs, streams starting md-churn-data-3f2a9c1b0d4e-train/",
      );
    });

    it("keeps the dataset's full name even when the subject had to shorten it", () => {
      const run = longName(succeeded());
      run.dataset.key = `inbox/${LONG_NAME}`;

      expect(buildNotice(run).text).toContain(`s3://modeldrop-data/inbox/${LONG_NAME}`);
    });
  });

  it("names what the search chose and why, a budget that cut it short, and a candidate left out", () => {
    const run = searchedRun();
    const { text } = buildNotice({ ...run, status: "SUCCEEDED" });

    expect(text).toContain(
      "Chosen: ensemble of 2 candidate(s): a weighted ensemble of xgboost (60%), linear (40%) scored 0.93",
    );
    expect(text).toContain("Search: cut short by its time budget (120 s) for xgboost;");
    expect(text).toContain(
      "Left out: train-lightgbm failed (States.TaskFailed): AlgorithmError: <lightgbm> ran out of memory",
    );
  });
});
