import { describe, expect, it } from "vitest";
import type { RunOptions } from "../../core/options.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import {
  describeFailure,
  failedCandidates,
  type TrainingState,
} from "../../core/pipeline-state.js";

const RUN = "churn-3f2a9c1b0d4e";

function stateWith(options: RunOptions, fields: Partial<TrainingState>): TrainingState {
  return {
    ...pipelineInput({
      runId: RUN,
      bucket: "modeldrop-data",
      region: "us-east-1",
      source: { key: "inbox/churn.csv", versionId: "v1" },
      kind: "table",
      options,
      codeSha256: "a".repeat(64),
    }),
    ...fields,
  };
}

/** What a candidate's Catch keeps: the failed training job's DescribeTrainingJob as the Cause. */
function jobFailure(step: string, reason: string) {
  const job = `md-${RUN}-${step}`;
  return {
    job,
    failure: {
      Error: "States.TaskFailed",
      Cause: JSON.stringify({ TrainingJobName: job, FailureReason: reason }),
    },
  };
}

describe("a failed training job, as the run records it", () => {
  it("names the candidate a search left out, with its job's own reason", () => {
    const state = stateWith(
      {},
      {
        steps: {
          train: [
            jobFailure("train-xgboost", "AlgorithmError: out of memory"),
            { job: `md-${RUN}-train-lightgbm`, start: 0, end: 1000, billable: 1 },
          ],
        },
      },
    );

    expect(failedCandidates(state)).toEqual([
      {
        step: "train-xgboost",
        error: "States.TaskFailed",
        reason: "AlgorithmError: out of memory",
      },
    ]);
  });

  it("puts the failure of a run whose every candidate failed at the first, with each one's reason", () => {
    const state = stateWith(
      { preset: "fast" },
      {
        steps: {
          train: [
            jobFailure("train-lightgbm", "MaxRuntimeExceeded: 1 s"),
            jobFailure("train-linear", "MaxRuntimeExceeded: 1 s"),
          ],
        },
        failedStep: "select",
        failure: {
          Error: "States.TaskFailed",
          Cause: JSON.stringify({ ExitMessage: "no candidate training job left a model" }),
        },
      },
    );

    expect(describeFailure(state)).toEqual({
      step: "train-lightgbm",
      error: "States.TaskFailed",
      reason:
        "every candidate failed: train-lightgbm: MaxRuntimeExceeded: 1 s; train-linear: MaxRuntimeExceeded: 1 s",
      log: { group: "/aws/sagemaker/TrainingJobs", streamPrefix: `md-${RUN}-train-lightgbm/` },
    });
  });

  it("names the one job of a pinned algorithm at the train step", () => {
    const state = stateWith(
      { algorithm: "xgboost" },
      { failedStep: "train", failure: jobFailure("train", "AlgorithmError: bad data").failure },
    );

    expect(describeFailure(state)).toMatchObject({
      step: "train",
      reason: "AlgorithmError: bad data",
      log: { streamPrefix: `md-${RUN}-train/` },
    });
  });
});
