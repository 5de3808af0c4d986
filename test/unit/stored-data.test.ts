import { describe, expect, it } from "vitest";
import { parseStored, StoredDataInvalid } from "../../core/errors.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { Run } from "../../core/run-record.js";
import { aRun } from "./fakes.js";

describe("stored data", () => {
  it("reads a run record back as it was written, without the index attributes", () => {
    const run = aRun({ status: "SUCCEEDED", metrics: { roc_auc: 0.97 } });

    expect(
      parseStored(Run, { ...run, listed: "run", datasetName: "churn data.csv" }, "run"),
    ).toEqual(run);
  });

  it("refuses a run record that does not match its schema, naming the item and the field", () => {
    const item = { ...aRun(), status: "DONE" };

    expect(() => parseStored(Run, item, "run churn-data-3f2a9c1b0d4e in the Runs table")).toThrow(
      StoredDataInvalid,
    );
    expect(() => parseStored(Run, item, "run churn-data-3f2a9c1b0d4e in the Runs table")).toThrow(
      /run churn-data-3f2a9c1b0d4e in the Runs table does not match its schema: status:/,
    );
  });

  it("refuses a pipeline state that lacks what the task reads, naming the field", () => {
    expect(() => parsePipelineState({ runId: "r1", bucket: "b", kind: "predict" })).toThrow(
      /the batch-predict state does not match its schema: dataset:/,
    );
  });
});
