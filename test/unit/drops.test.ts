import { describe, expect, it } from "vitest";
import {
  classifyDrop,
  decodeEventKey,
  dropRun,
  OptionsNotJson,
  resolveOptions,
  sidecarKey,
} from "../../core/drops.js";
import { InvalidOptions } from "../../core/options.js";

describe("keys in S3 events", () => {
  it.each([
    ["a + as a space", "inbox/Churn+Data.csv", "inbox/Churn Data.csv"],
    ["%2B as a plus sign", "inbox/a%2Bb.csv", "inbox/a+b.csv"],
    [
      "UTF-8 escapes as the characters",
      "inbox/donn%C3%A9es+%C3%A9t%C3%A9.csv",
      "inbox/données été.csv",
    ],
    ["an escaped percent sign once", "inbox/100%25+sure.csv", "inbox/100% sure.csv"],
    ["a plain key unchanged", "inbox/team/churn.csv", "inbox/team/churn.csv"],
  ])("decodes %s", (_, eventKey, key) => {
    expect(decodeEventKey(eventKey)).toBe(key);
  });
});

describe("what a dropped object becomes", () => {
  it.each([
    ["inbox/churn.csv", "table"],
    ["inbox/team/CHURN.CSV", "table"],
    ["inbox/churn.tsv", "table"],
    ["inbox/churn.txt", "table"],
    ["inbox/churn.parquet", "table"],
    ["inbox/digits.zip", "images"],
  ])("trains on %s as a %s dataset", (key, kind) => {
    expect(classifyDrop(key, 2048)).toEqual({ action: "train", kind });
  });

  it.each([
    ["a folder marker", "inbox/team/", 0, "it is a folder marker"],
    ["a sidecar options file", "inbox/churn.csv.modeldrop.json", 120, "it is a sidecar"],
    ["an empty file", "inbox/churn.csv", 0, "it is empty (0 bytes)"],
    ["a run's own output", "runs/churn-3f2a9c1b0d4e/input/churn.csv", 2048, "not under inbox/"],
  ])("ignores %s", (_, key, size, reason) => {
    const decision = classifyDrop(key, size);

    expect(decision.action).toBe("ignore");
    expect(decision).toMatchObject({ reason: expect.stringContaining(reason) });
  });

  it("rejects a format it cannot read with a message naming the file and the formats it reads", () => {
    expect(classifyDrop("inbox/team/Q3 report.xlsx", 2048)).toEqual({
      action: "reject",
      reason:
        "Q3 report.xlsx is not a format modeldrop reads: drop a CSV (.csv, .tsv, .txt), Parquet (.parquet) or a zip of images in class folders (.zip)",
    });
  });

  it("looks for a dataset's sidecar next to it", () => {
    expect(sidecarKey("inbox/team/churn.csv")).toBe("inbox/team/churn.csv.modeldrop.json");
  });
});

describe("where a drop's options come from", () => {
  const sidecar = (text: string, writtenBefore = true) => ({ text, writtenBefore });

  it("runs with inferred defaults when nothing gives options", () => {
    expect(resolveOptions({})).toEqual({ options: {}, source: "none", notes: [] });
  });

  it("applies options from the object's metadata", () => {
    expect(resolveOptions({ metadata: '{"target":"churn"}' })).toEqual({
      options: { target: "churn" },
      source: "metadata",
      notes: [],
    });
  });

  it("applies a sidecar written before the dataset", () => {
    expect(resolveOptions({ sidecar: sidecar('{"task":"binary"}') })).toEqual({
      options: { task: "binary" },
      source: "sidecar",
      notes: [],
    });
  });

  it("prefers metadata over a sidecar and notes that the sidecar was ignored", () => {
    const resolved = resolveOptions({
      metadata: '{"target":"churn"}',
      sidecar: sidecar('{"target":"other"}'),
    });

    expect(resolved.options).toEqual({ target: "churn" });
    expect(resolved.notes).toEqual(["a sidecar options file was ignored: metadata options win"]);
  });

  it("notes a sidecar that arrived after the dataset and does not apply it", () => {
    const resolved = resolveOptions({ sidecar: sidecar('{"target":"churn"}', false) });

    expect(resolved).toEqual({
      options: {},
      source: "none",
      notes: ["the sidecar options file arrived after the dataset and was not applied"],
    });
  });

  it("does not even read a late sidecar, so one that is not JSON does not fail the run", () => {
    expect(resolveOptions({ sidecar: sidecar("{oops", false) }).source).toBe("none");
  });

  it.each([
    ["metadata", { metadata: "{target: churn}" }, "the modeldrop-options metadata"],
    [
      "a sidecar",
      { sidecar: sidecar('{"target": "churn",}') },
      "the sidecar file (.modeldrop.json)",
    ],
  ])("fails options in %s that are not JSON, saying where they were", (_, sources, place) => {
    expect(() => resolveOptions(sources)).toThrow(
      new OptionsNotJson(`the run options in ${place} are not valid JSON`),
    );
  });

  it("fails a sidecar with an invalid option, naming the field", () => {
    try {
      resolveOptions({ sidecar: sidecar('{"threshold":"high"}') });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptions);
      expect(error).toMatchObject({
        field: "threshold",
        message: expect.stringMatching(/^option threshold: /),
      });
    }
  });
});

describe("the run record a drop starts as", () => {
  const base = {
    id: "churn-0123456789ab",
    bucket: "data",
    key: "inbox/churn.csv",
    versionId: "v1",
    now: new Date("2026-12-01T10:00:00Z"),
  };

  it("is queued with its options, registering under the options' model name", () => {
    const run = dropRun({
      ...base,
      decision: { action: "train", kind: "table" },
      sources: { metadata: JSON.stringify({ target: "churned", modelName: "churn-v2" }) },
    });

    expect(run).toMatchObject({
      status: "QUEUED",
      optionsSource: "metadata",
      options: { target: "churned" },
      modelName: "churn-v2",
      dataset: { kind: "table", name: "churn.csv" },
    });
  });

  it("fails at intake naming the invalid option, and an unreadable format by its reason", () => {
    const badOptions = dropRun({
      ...base,
      decision: { action: "train", kind: "table" },
      sources: { metadata: JSON.stringify({ threshold: "high" }) },
    });
    const badFormat = dropRun({
      ...base,
      decision: { action: "reject", reason: "budget.xlsx is not a format modeldrop reads" },
      sources: {},
    });

    expect(badOptions).toMatchObject({
      status: "FAILED",
      failure: { step: "intake", error: "InvalidOptions" },
    });
    expect(badOptions.failure?.reason).toContain("threshold");
    expect(badFormat.failure).toEqual({
      step: "intake",
      error: "UnsupportedFormat",
      reason: "budget.xlsx is not a format modeldrop reads",
    });
    expect(badFormat.endedAt).toBe("2026-12-01T10:00:00.000Z");
  });
});
