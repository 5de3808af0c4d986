import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { renderReport, reportInputs } from "../../core/report/index.js";
import { tarGzMember } from "../../core/tar.js";
import {
  evaluation,
  history,
  modelArchive,
  profile,
  sectionText,
  succeededRun,
  TINY_PNG,
} from "./report-fixtures.js";

describe("reading one file out of a model archive", () => {
  const files = {
    "model.joblib": "x".repeat(3000),
    "history.json": JSON.stringify(history()),
    [`${"deep/".repeat(30)}notes.txt`]: "long name",
  };

  it("finds history.json behind the ./ that tar -C dir . writes", () => {
    const found = tarGzMember(modelArchive(files), "history.json");

    expect(JSON.parse(found?.toString("utf8") ?? "")).toEqual(history());
  });

  it("reads GNU long names and pax paths", () => {
    for (const format of ["gnu", "pax"])
      expect(
        tarGzMember(modelArchive(files, format), `${"deep/".repeat(30)}notes.txt`)?.toString(),
      ).toBe("long name");
  });

  it("answers undefined for a file the archive does not hold", () => {
    expect(tarGzMember(modelArchive({ "model.joblib": "x" }), "history.json")).toBeUndefined();
  });

  it("refuses to unpack past its limit", () => {
    expect(() => tarGzMember(modelArchive(files), "history.json", 1024)).toThrow(RangeError);
  });
});

describe("the report's inputs from raw job outputs", () => {
  it("parses profile.json, evaluation.json and the history in the model archive", () => {
    const inputs = reportInputs(succeededRun(), {
      profile: JSON.stringify(profile()),
      evaluation: JSON.stringify(evaluation()),
      modelArchive: modelArchive({ "history.json": JSON.stringify(history()) }),
      plots: { "roc.png": TINY_PNG },
    });

    expect(inputs.profile?.rows).toBe(1203);
    expect(inputs.evaluation?.modeldrop.test_rows).toBe(180);
    expect(inputs.history?.best_round).toBe(3);
    expect(Object.keys(inputs.plots ?? {})).toEqual(["roc.png"]);
    expect(inputs.problems).toEqual([]);
  });

  it("says on the page which file it could not read, and renders the rest", () => {
    const inputs = reportInputs(succeededRun(), {
      profile: JSON.stringify({ columns: "not a list" }),
      evaluation: "{ truncated",
      modelArchive: gzipSync(Buffer.from("not a tar")).subarray(0, 5),
      plots: { "roc.png": Buffer.from("<svg onload=alert(1)>") },
    });

    const notes = sectionText(renderReport(inputs), "notes");

    expect(notes).toContain("profile.json does not have the expected layout (columns:");
    expect(notes).toContain("evaluation.json is not valid JSON");
    expect(notes).toContain("The model archive could not be unpacked");
    expect(notes).toContain("The plot roc.png is not a PNG image and is left out.");
    expect(inputs.plots).toEqual({});
    expect(inputs.profile).toBeUndefined();
  });

  it("names the field when evaluation.json has the wrong layout", () => {
    const inputs = reportInputs(succeededRun(), { evaluation: JSON.stringify({ modeldrop: {} }) });

    expect(inputs.problems?.[0]).toMatch(/^evaluation.json does not have the expected layout: /);
    expect(inputs.evaluation).toBeUndefined();
  });
});
