/**
 * What the API shows of a run (core/run-view.ts): the summary a live list polls, and the parts
 * of the whole record it is built from.
 */
import { describe, expect, it } from "vitest";
import { RunSummary } from "../../core/api.js";
import { plotKeys, toRunDetail, toRunSummary } from "../../core/run-view.js";
import { aRun } from "./fakes.js";

const COST = {
  totalUsd: 0.0421,
  steps: [],
  unpriced: [],
  priceTable: { date: "2026-10-01", region: "us-east-1" },
};

describe("a run's summary", () => {
  it("shows an ended run's cost, duration and gate metric", () => {
    const run = aRun({
      status: "SUCCEEDED",
      createdAt: "2026-11-02T10:00:00.000Z",
      endedAt: "2026-11-02T10:03:12.500Z",
      cost: COST,
      gate: { metric: "roc_auc", threshold: 0.7, value: 0.91, direction: "higher", passed: true },
    });

    const summary = toRunSummary(run);

    expect(summary).toMatchObject({
      costUsd: 0.0421,
      seconds: 192.5,
      metric: { name: "roc_auc", value: 0.91 },
    });
    expect(RunSummary.parse(summary)).toEqual(summary);
  });

  it("leaves out what a running run does not have yet, and never lists progress", () => {
    const summary = toRunSummary(aRun({ status: "RUNNING", step: "train" }));

    expect(summary).not.toHaveProperty("costUsd");
    expect(summary).not.toHaveProperty("seconds");
    expect(summary).not.toHaveProperty("metric");
    expect(summary).not.toHaveProperty("progress");
    expect(Object.keys(summary)).toEqual([
      "id",
      "kind",
      "status",
      "createdAt",
      "updatedAt",
      "dataset",
      "step",
      "url",
    ]);
  });

  it("still parses as a summary an older record's, which has none of the new fields", () => {
    const older = {
      id: "r1",
      kind: "train",
      status: "SUCCEEDED",
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:05:00Z",
      dataset: { key: "inbox/a.csv", versionId: "v1", name: "a.csv" },
      url: "/runs/r1",
    };

    expect(RunSummary.safeParse(older).success).toBe(true);
  });

  it("is the head of the run's whole record, so a list and the detail agree", () => {
    const run = aRun({ status: "FAILED", endedAt: "2026-11-02T10:00:30.000Z", cost: COST });

    const detail = toRunDetail(run, {});

    expect(detail).toMatchObject(toRunSummary(run));
  });
});

describe("a run's plots", () => {
  it("are the PNGs under the plots prefix, named by their file names", () => {
    const prefix = "runs/r1/evaluation/plots/";

    const plots = plotKeys([
      `${prefix}confusion_matrix.png`,
      `${prefix}notes.txt`,
      `${prefix}roc.png`,
    ]);

    expect(plots).toEqual([
      { name: "confusion_matrix.png", key: `${prefix}confusion_matrix.png` },
      { name: "roc.png", key: `${prefix}roc.png` },
    ]);
  });
});
