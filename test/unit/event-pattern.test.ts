import { describe, expect, it } from "vitest";
import {
  matchesPattern,
  parseEventPattern,
  targetInput,
  transformInput,
} from "../../local/event-pattern.js";

const objectCreated = {
  source: "aws.s3",
  "detail-type": "Object Created",
  detail: {
    bucket: { name: "modeldrop-data" },
    object: { key: "inbox/churn.csv", size: 2048 },
    reason: "PutObject",
  },
};

const matches = (pattern: object, event: object = objectCreated) =>
  matchesPattern(parseEventPattern(JSON.stringify(pattern)), event);

describe("EventBridge event patterns", () => {
  it.each([
    ["exact values, any of a list", { source: ["aws.s3", "aws.states"] }, true],
    ["every field must match", { source: ["aws.s3"], "detail-type": ["Object Deleted"] }, false],
    [
      "a prefix filter on a nested field",
      { detail: { object: { key: [{ prefix: "inbox/" }] } } },
      true,
    ],
    ["a prefix that does not match", { detail: { object: { key: [{ prefix: "runs/" }] } } }, false],
    ["a suffix filter", { detail: { object: { key: [{ suffix: ".csv" }] } } }, true],
    ["equals-ignore-case", { "detail-type": [{ "equals-ignore-case": "object created" }] }, true],
    ["anything-but a list", { detail: { reason: [{ "anything-but": ["CopyObject"] }] } }, true],
    [
      "anything-but the value itself",
      { detail: { reason: [{ "anything-but": "PutObject" }] } },
      false,
    ],
    [
      "anything-but a prefix",
      { detail: { object: { key: [{ "anything-but": { prefix: "inbox/" } }] } } },
      false,
    ],
    [
      "numeric range",
      { detail: { object: { size: [{ numeric: [">", 1000, "<=", 4096] }] } } },
      true,
    ],
    ["numeric range missed", { detail: { object: { size: [{ numeric: ["<", 1000] }] } } }, false],
    ["exists: true", { detail: { object: { size: [{ exists: true }] } } }, true],
    [
      "exists: false on a present field",
      { detail: { object: { size: [{ exists: false }] } } },
      false,
    ],
    [
      "exists: false on an absent field",
      { detail: { object: { etag: [{ exists: false }] } } },
      true,
    ],
    ["wildcard", { detail: { object: { key: [{ wildcard: "inbox/*.csv" }] } } }, true],
    [
      "$or of sub-patterns",
      { $or: [{ source: ["aws.states"] }, { detail: { reason: ["PutObject"] } }] },
      true,
    ],
    ["a field the event lacks", { detail: { missing: ["x"] } }, false],
  ])("%s", (_, pattern, expected) => {
    expect(matches(pattern)).toBe(expected);
  });

  it("matches a list in the event when any element matches", () => {
    expect(matches({ resources: ["arn:b"] }, { resources: ["arn:a", "arn:b"] })).toBe(true);
  });

  it.each([
    ["not JSON", "{source"],
    ["not an object", "[]"],
    ["a leaf that is not a list", '{"source": "aws.s3"}'],
    ["an unknown filter", '{"source": [{"sounds-like": "s3"}]}'],
  ])("refuses a pattern that is %s", (_, text) => {
    expect(() => parseEventPattern(text)).toThrow(
      expect.objectContaining({ code: "InvalidEventPatternException" }),
    );
  });
});

describe("EventBridge target input", () => {
  it("fills an input template: JSON outside strings, text inside, null for a missing path", () => {
    const text = transformInput(
      {
        InputPathsMap: {
          key: "$.detail.object.key",
          size: "$.detail.object.size",
          etag: "$.detail.object.etag",
        },
        InputTemplate:
          '{"key": <key>, "size": <size>, "note": "got <key> (<size> bytes)", "etag": <etag>}',
      },
      objectCreated,
    );

    expect(JSON.parse(text)).toEqual({
      key: "inbox/churn.csv",
      size: 2048,
      note: "got inbox/churn.csv (2048 bytes)",
      etag: null,
    });
  });

  it("escapes quotes in values placed inside a string", () => {
    const text = transformInput(
      { InputPathsMap: { key: "$.detail.object.key" }, InputTemplate: '{"msg": "file <key>"}' },
      { detail: { object: { key: 'say "hi".csv' } } },
    );

    expect(JSON.parse(text)).toEqual({ msg: 'file say "hi".csv' });
  });

  it("uses a constant Input, an InputPath, or the whole event", () => {
    expect(targetInput({ Input: '{"fixed":1}' }, objectCreated)).toBe('{"fixed":1}');
    expect(JSON.parse(targetInput({ InputPath: "$.detail.bucket" }, objectCreated))).toEqual({
      name: "modeldrop-data",
    });
    expect(JSON.parse(targetInput({}, objectCreated))).toEqual(objectCreated);
  });
});
