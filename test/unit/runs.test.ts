import { describe, expect, it } from "vitest";
import { parseRunOptions } from "../../core/options.js";
import { defaultModelName, isTerminal, JOB_STEPS, jobName, runIdForDrop } from "../../core/runs.js";

/** SageMaker's own rule for job and model names. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

const HOSTILE_KEYS = [
  "inbox/Churn Data.csv",
  "inbox/données clients été 2026.csv",
  "inbox/顧客データ.csv",
  "inbox/📈📉.csv",
  "inbox/----.csv",
  "inbox/.csv",
  "inbox/a..b..c.parquet",
  "inbox/../../etc/passwd",
  "inbox/'; DROP TABLE runs;--.csv",
  "inbox/team/sub folder/ünïcödé name with spaces.zip",
  `inbox/${"x".repeat(900)}.csv`,
  `inbox/${"a-".repeat(300)}.csv`,
  `inbox/${"données ".repeat(120)}.csv`,
];

describe("run ids and job names", () => {
  it("gives the same run id to the same bucket, key and version", () => {
    expect(runIdForDrop("modeldrop-data", "inbox/churn.csv", "v1")).toBe(
      runIdForDrop("modeldrop-data", "inbox/churn.csv", "v1"),
    );
  });

  it.each([
    ["another version of the object", "modeldrop-data", "inbox/churn.csv", "v2"],
    ["the same key in another bucket", "other-bucket", "inbox/churn.csv", "v1"],
    ["another key with the same file name", "modeldrop-data", "inbox/team/churn.csv", "v1"],
  ])("gives %s a different run id", (_, bucket, key, versionId) => {
    expect(runIdForDrop(bucket, key, versionId)).not.toBe(
      runIdForDrop("modeldrop-data", "inbox/churn.csv", "v1"),
    );
  });

  it("starts the run id with a readable slug of the file name", () => {
    expect(runIdForDrop("modeldrop-data", "inbox/Churn Data.csv", "v1")).toMatch(
      /^churn-data-[0-9a-f]{12}$/,
    );
  });

  it.each(HOSTILE_KEYS)("derives valid SageMaker names for every job of a drop named %j", (key) => {
    const runId = runIdForDrop("modeldrop-data", key, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");

    const names = JOB_STEPS.map((step) => jobName(runId, step));

    for (const name of names) {
      expect(name).toMatch(/^[a-zA-Z0-9-]{1,63}$/);
      expect(name).toMatch(SAGEMAKER_NAME);
    }
    expect(new Set(names).size).toBe(JOB_STEPS.length);
  });

  it("names a run's job the same way every time", () => {
    expect(jobName("churn-data-3f2a9c1b0d4e", "train")).toBe("md-churn-data-3f2a9c1b0d4e-train");
  });

  it("refuses a job name longer than 63 characters even when the letters alone would fit", () => {
    const hyphenated = `${"a-".repeat(29)}a`;

    expect(() => jobName(hyphenated, "preprocess")).toThrow(/is not a valid SageMaker name/);
  });

  it.each(HOSTILE_KEYS)("gives a drop named %j a default model name the options accept", (key) => {
    const modelName = defaultModelName(key);

    expect(parseRunOptions({ modelName })).toEqual({ modelName });
  });
});

describe("run statuses", () => {
  it.each(["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"])("treats %s as final", (status) => {
    expect(isTerminal(status)).toBe(true);
  });

  it.each(["QUEUED", "RUNNING"])("treats %s as still going", (status) => {
    expect(isTerminal(status)).toBe(false);
  });
});
