import { describe, expect, it } from "vitest";
import { elapsedSeconds, runCost } from "../../core/cost.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import { jobUsage, type PipelineState, type StepSummaries } from "../../core/pipeline-state.js";
import prices from "../../core/prices.json" with { type: "json" };

const T0 = Date.parse("2026-11-02T10:00:00Z");

function finishedRun(steps: StepSummaries): PipelineState {
  return {
    ...pipelineInput({
      runId: "churn-3f2a9c1b0d4e",
      bucket: "modeldrop-data",
      region: "us-east-1",
      source: { key: "inbox/churn.csv", versionId: "v1" },
      kind: "table",
      options: {},
      codeSha256: "a".repeat(64),
    }),
    steps,
  };
}

describe("what a run's jobs cost", () => {
  it("bills every candidate training job by its billable seconds, and the select job", () => {
    const state = finishedRun({
      train: [
        {
          job: "md-churn-3f2a9c1b0d4e-train-xgboost",
          start: T0,
          end: T0 + 1_000_000,
          billable: 600,
        },
        {
          job: "md-churn-3f2a9c1b0d4e-train-lightgbm",
          start: T0,
          end: T0 + 500_000,
          billable: 300,
        },
        // a candidate that failed was left out: no job time to bill
        {
          job: "md-churn-3f2a9c1b0d4e-train-extra-trees",
          failure: { Error: "States.TaskFailed", Cause: "{}" },
        },
        { job: "md-churn-3f2a9c1b0d4e-train-linear", start: T0, end: T0 + 90_000, billable: 60 },
      ],
      select: { job: "md-churn-3f2a9c1b0d4e-select", start: T0, end: T0 + 30_000 },
    });

    const cost = runCost(jobUsage(state));

    expect(cost.steps.map(({ step, kind, seconds }) => ({ step, kind, seconds }))).toEqual([
      { step: "train-xgboost", kind: "training", seconds: 600 },
      { step: "train-lightgbm", kind: "training", seconds: 300 },
      { step: "train-linear", kind: "training", seconds: 60 },
      { step: "select", kind: "processing", seconds: 30 },
    ]);
    expect(cost.steps[0]).toMatchObject({ instanceType: "ml.m5.xlarge", usd: 0.038333 });
  });

  it("bills processing and transform jobs from their start and end times", () => {
    const state = finishedRun({
      processing: [{ job: "md-churn-3f2a9c1b0d4e-preprocess", start: T0, end: T0 + 120_000 }],
      evaluate: { job: "md-churn-3f2a9c1b0d4e-evaluate", start: T0, end: T0 + 60_000 },
      transform: { job: "md-churn-3f2a9c1b0d4e-transform", start: T0, end: T0 + 90_000 },
    });

    const cost = runCost(jobUsage(state));

    expect(cost.steps.map(({ step, kind, seconds }) => ({ step, kind, seconds }))).toEqual([
      { step: "preprocess", kind: "processing", seconds: 120 },
      { step: "evaluate", kind: "processing", seconds: 60 },
      { step: "transform", kind: "transform", seconds: 90 },
    ]);
    expect(cost.totalUsd).toBe(0.01725);
  });

  it("lists an instance type missing from the price table as unpriced instead of costing it zero", () => {
    const cost = runCost([
      { step: "train", kind: "training", instanceType: "ml.trn1.2xlarge", seconds: 3600 },
      { step: "preprocess", kind: "processing", instanceType: "ml.m5.xlarge", seconds: 3600 },
    ]);

    expect(cost.steps[0]?.usd).toBeNull();
    expect(cost.unpriced).toEqual(["ml.trn1.2xlarge"]);
    expect(cost.totalUsd).toBe(0.23);
  });

  it("prices an instance type per job kind, so one priced for training is unpriced for processing", () => {
    const cost = runCost([
      { step: "train", kind: "training", instanceType: "ml.p3.2xlarge", seconds: 3600 },
      { step: "evaluate", kind: "processing", instanceType: "ml.p3.2xlarge", seconds: 3600 },
    ]);

    expect(cost.steps.map((step) => step.usd)).toEqual([3.825, null]);
    expect(cost.unpriced).toEqual(["ml.p3.2xlarge"]);
  });

  it("names an unpriced instance type once however many steps used it", () => {
    const cost = runCost([
      { step: "preprocess", kind: "processing", instanceType: "ml.r5.large", seconds: 10 },
      { step: "evaluate", kind: "processing", instanceType: "ml.r5.large", seconds: 10 },
    ]);

    expect(cost.unpriced).toEqual(["ml.r5.large"]);
  });

  it("rounds each step and the total to millionths of a dollar", () => {
    const oneSecond = { kind: "training", instanceType: "ml.m5.large", seconds: 1 } as const;

    const cost = runCost([
      { step: "train", ...oneSecond },
      { step: "train", ...oneSecond },
      { step: "train", ...oneSecond },
    ]);

    expect(cost.steps[0]?.usd).toBe(0.000032);
    expect(cost.totalUsd).toBe(0.000096);
  });

  it("says which dated price table it used", () => {
    expect(runCost([]).priceTable).toEqual({ date: prices.date, region: prices.region });
  });

  it.each([
    ["rounds to the nearest whole second", 90_400, 90],
    ["rounds half a second up", 90_500, 91],
    ["counts at least one second", 0, 1],
  ])("elapsed time %s", (_, ms, seconds) => {
    expect(elapsedSeconds(T0, T0 + ms)).toBe(seconds);
  });
});
