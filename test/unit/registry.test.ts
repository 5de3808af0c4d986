import { describe, expect, it } from "vitest";
import {
  approvalForNewVersion,
  type ModelSchema,
  schemaChanges,
  schemaFromProfile,
} from "../../core/registry.js";

const cancer: ModelSchema = {
  task: "binary",
  target: "diagnosis",
  features: [
    { name: "radius", kind: "numeric" },
    { name: "texture", kind: "numeric" },
  ],
};

describe("a model's next version", () => {
  it("reads the schema from profile.json, leaving out the target and dropped columns", () => {
    const schema = schemaFromProfile({
      target: { name: "diagnosis", task: "binary" },
      columns: [
        { name: "id", role: "dropped" },
        { name: "radius", role: "numeric" },
        { name: "texture", role: "numeric" },
        { name: "diagnosis", role: "target" },
      ],
    });
    expect(schema).toEqual(cancer);
  });

  it("is Approved by a passed gate when its schema matches the newest version", () => {
    expect(
      approvalForNewVersion({
        modelName: "good",
        manualApproval: false,
        schema: cancer,
        newest: { version: 1, schema: cancer },
      }),
    ).toEqual({ approval: "Approved" });
  });

  it("stays Pending and says what changed when the schema differs", () => {
    const housing: ModelSchema = {
      task: "regression",
      target: "price",
      features: [
        { name: "radius", kind: "categorical" },
        { name: "rooms", kind: "numeric" },
      ],
    };
    const decided = approvalForNewVersion({
      modelName: "good",
      manualApproval: false,
      schema: housing,
      newest: { version: 1, schema: cancer },
    });
    expect(decided.approval).toBe("Pending");
    expect(decided.schemaChange).toContain("differs from good version 1");
    expect(schemaChanges(cancer, housing)).toEqual([
      "task binary -> regression",
      "target diagnosis -> price",
      "columns no longer used: texture",
      "new columns: rooms",
      "columns read differently: radius (numeric -> categorical)",
    ]);
  });

  it("is Pending when the run asks for manual approval, and compares nothing for a first version", () => {
    expect(
      approvalForNewVersion({
        modelName: "good",
        manualApproval: true,
        schema: cancer,
        newest: undefined,
      }),
    ).toEqual({ approval: "Pending" });
  });

  it("lists at most ten column names and counts the rest", () => {
    const wide: ModelSchema = {
      ...cancer,
      features: Array.from({ length: 14 }, (_, i) => ({ name: `c${i}`, kind: "numeric" })),
    };
    expect(schemaChanges(cancer, wide)).toContain(
      "new columns: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 4 more",
    );
  });
});
