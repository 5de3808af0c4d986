import { describe, expect, it } from "vitest";
import { runIdForDrop } from "../../core/run-ids.js";
import { makeHandler } from "../../handlers/on-upload.js";
import { invoke, objectCreatedEvent } from "./events.js";
import {
  executionArn,
  FakeCode,
  FakeLog,
  FakeNotices,
  FakeObjects,
  FakePipeline,
  FakeRuns,
} from "./fakes.js";

const BUCKET = "modeldrop-data";
const DROPPED_AT = new Date("2026-11-02T09:00:00Z");

function objectCreated(eventKey: string, object: { size?: number; versionId?: string } = {}) {
  return objectCreatedEvent(BUCKET, eventKey, {
    size: object.size ?? 2048,
    versionId: object.versionId ?? "v1",
  });
}

/** An inbox with one dropped file, and the handler over fakes; the clock ticks a minute per call. */
function inbox() {
  const runs = new FakeRuns();
  const objects = new FakeObjects();
  const pipeline = new FakePipeline();
  const notices = new FakeNotices();
  let minute = 0;
  const onUpload = makeHandler({
    ports: {
      runs,
      objects,
      pipeline,
      code: new FakeCode(),
      notices,
      log: new FakeLog(),
      now: () => new Date(Date.parse("2026-11-02T10:00:00Z") + 60_000 * minute++),
    },
    settings: () => ({ region: "us-east-1", codeSha256: "c0ffee".padEnd(64, "0") }),
  });
  const handler = (event: unknown) => invoke(onUpload, event);
  const drop = (key: string, metadata: Record<string, string> = {}) =>
    objects.put(BUCKET, key, "x,y\n1,2\n", { versionId: "v1", lastModified: DROPPED_AT, metadata });
  return { runs, objects, pipeline, notices, handler, drop };
}

describe("a file dropped into the inbox", () => {
  it("starts one run, named by the exact object version, and records its execution", async () => {
    const { runs, pipeline, handler, drop } = inbox();
    drop("inbox/churn data.csv");

    const outcome = await handler(objectCreated("inbox/churn+data.csv"));

    const runId = runIdForDrop(BUCKET, "inbox/churn data.csv", "v1");
    expect(outcome).toEqual({ outcome: "started", runId });
    expect(pipeline.starts.map((start) => start.name)).toEqual([runId]);
    expect(runs.all()).toEqual([
      expect.objectContaining({
        id: runId,
        status: "QUEUED",
        dataset: {
          bucket: BUCKET,
          key: "inbox/churn data.csv",
          versionId: "v1",
          name: "churn data.csv",
          kind: "table",
        },
        executionArn: executionArn(runId),
      }),
    ]);
  });

  it("on a duplicate delivery, starts the same execution again with the same input and records no second run", async () => {
    const { runs, pipeline, handler, drop } = inbox();
    drop("inbox/churn.csv", { "modeldrop-options": '{"target":"churn"}' });
    await handler(objectCreated("inbox/churn.csv"));
    const [first] = runs.all();

    await handler(objectCreated("inbox/churn.csv"));

    expect(pipeline.starts).toHaveLength(2);
    expect(pipeline.starts[1]).toEqual(pipeline.starts[0]);
    expect(runs.created).toHaveLength(1);
    expect(runs.all()).toEqual([
      expect.objectContaining({ id: first?.id, createdAt: first?.createdAt }),
    ]);
  });

  it("a redelivery after the run started still starts the same execution and leaves its status alone", async () => {
    const { runs, pipeline, handler, drop } = inbox();
    drop("inbox/churn.csv");
    await handler(objectCreated("inbox/churn.csv"));
    const runId = runIdForDrop(BUCKET, "inbox/churn.csv", "v1");
    await runs.update(runId, { status: "RUNNING", step: "train" });

    await handler(objectCreated("inbox/churn.csv"));

    expect(pipeline.starts[1]).toEqual(pipeline.starts[0]);
    expect(await runs.get(runId)).toMatchObject({ status: "RUNNING", step: "train" });
  });

  it("heals a crash between recording the run and starting it when the event is redelivered", async () => {
    const { runs, pipeline, handler, drop } = inbox();
    drop("inbox/churn.csv");
    pipeline.crashNextStart(new Error("Task timed out after 30.00 seconds"));
    await expect(handler(objectCreated("inbox/churn.csv"))).rejects.toThrow("Task timed out");
    const [stranded] = runs.all();
    expect(stranded).toMatchObject({ status: "QUEUED" });
    expect(stranded?.executionArn).toBeUndefined();

    const outcome = await handler(objectCreated("inbox/churn.csv"));

    expect(outcome).toEqual({ outcome: "started", runId: stranded?.id });
    expect(pipeline.starts.map((start) => start.name)).toEqual([stranded?.id]);
    expect(runs.all()).toEqual([
      expect.objectContaining({ id: stranded?.id, executionArn: executionArn(stranded?.id ?? "") }),
    ]);
  });

  it.each([
    ["a folder marker", "inbox/team/", 0],
    ["a sidecar options file", "inbox/churn.csv.modeldrop.json", 40],
    ["an empty file", "inbox/churn.csv", 0],
  ])("ignores %s and starts nothing", async (_, key, size) => {
    const { runs, pipeline, notices, handler } = inbox();

    const outcome = await handler(objectCreated(key, { size }));

    expect(outcome).toMatchObject({ outcome: "ignored" });
    expect(runs.all()).toEqual([]);
    expect(pipeline.starts).toEqual([]);
    expect(notices.published).toEqual([]);
  });

  it("ignores an event for an object that was deleted before it could be read", async () => {
    const { runs, pipeline, handler } = inbox();

    const outcome = await handler(objectCreated("inbox/churn.csv"));

    expect(outcome).toEqual({ outcome: "ignored", reason: "the object no longer exists" });
    expect(runs.all()).toEqual([]);
    expect(pipeline.starts).toEqual([]);
  });

  it("fails a file of an unsupported format at intake and sends one notice naming it", async () => {
    const { runs, pipeline, notices, handler, drop } = inbox();
    drop("inbox/Q3 report.xlsx");

    await handler(objectCreated("inbox/Q3+report.xlsx"));
    await handler(objectCreated("inbox/Q3+report.xlsx"));

    expect(runs.all()).toEqual([
      expect.objectContaining({
        status: "FAILED",
        failure: expect.objectContaining({
          step: "intake",
          error: "UnsupportedFormat",
          reason: expect.stringContaining("Q3 report.xlsx is not a format modeldrop reads"),
        }),
      }),
    ]);
    expect(notices.published.map((notice) => notice.subject)).toEqual([
      "modeldrop: Q3 report.xlsx failed at intake",
    ]);
    expect(pipeline.starts).toEqual([]);
  });

  it("runs with the options in the object's metadata", async () => {
    const { runs, pipeline, handler, drop } = inbox();
    drop("inbox/churn.csv", { "modeldrop-options": '{"target":"churn","threshold":0.8}' });

    await handler(objectCreated("inbox/churn.csv"));

    expect(runs.all()[0]).toMatchObject({
      options: { target: "churn", threshold: 0.8 },
      optionsSource: "metadata",
    });
    expect(pipeline.starts[0]?.input).toMatchObject({
      options: { target: "churn", threshold: 0.8 },
    });
  });

  it("applies a sidecar written before the dataset", async () => {
    const { runs, objects, handler, drop } = inbox();
    objects.put(BUCKET, "inbox/churn.csv.modeldrop.json", '{"task":"binary"}', {
      lastModified: new Date(DROPPED_AT.getTime() - 5_000),
    });
    drop("inbox/churn.csv");

    await handler(objectCreated("inbox/churn.csv"));

    expect(runs.all()[0]).toMatchObject({ options: { task: "binary" }, optionsSource: "sidecar" });
  });

  it("notes a sidecar written after the dataset on the run and does not apply it", async () => {
    const { runs, objects, handler, drop } = inbox();
    drop("inbox/churn.csv");
    objects.put(BUCKET, "inbox/churn.csv.modeldrop.json", '{"task":"binary"}', {
      lastModified: new Date(DROPPED_AT.getTime() + 5_000),
    });

    await handler(objectCreated("inbox/churn.csv"));

    expect(runs.all()[0]).toMatchObject({
      status: "QUEUED",
      options: {},
      notes: ["the sidecar options file arrived after the dataset and was not applied"],
    });
  });

  it("fails a drop whose sidecar is not JSON at intake, saying so", async () => {
    const { runs, pipeline, objects, notices, handler, drop } = inbox();
    objects.put(BUCKET, "inbox/churn.csv.modeldrop.json", "{target: churn}", {
      lastModified: new Date(DROPPED_AT.getTime() - 5_000),
    });
    drop("inbox/churn.csv");

    const outcome = await handler(objectCreated("inbox/churn.csv"));

    expect(outcome).toMatchObject({ outcome: "rejected" });
    expect(runs.all()[0]?.failure).toMatchObject({
      step: "intake",
      reason: "the run options in the sidecar file (.modeldrop.json) are not valid JSON",
    });
    expect(notices.published).toHaveLength(1);
    expect(pipeline.starts).toEqual([]);
  });

  it("fails a drop with an invalid option at intake, naming the option", async () => {
    const { runs, handler, drop } = inbox();
    drop("inbox/churn.csv", { "modeldrop-options": '{"hyperparameters":{"max_depth":0}}' });

    await handler(objectCreated("inbox/churn.csv"));

    expect(runs.all()[0]?.failure).toMatchObject({
      step: "intake",
      error: "InvalidOptions",
      reason: expect.stringMatching(/^option hyperparameters\.max_depth: /),
    });
  });
});
