import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it, vi } from "vitest";
import type { RunFilter } from "../../app/ports.js";
import { RunsStore } from "../../aws/runs-store.js";
import { queuedTrainingRun } from "../../core/drops.js";
import { parseRunOptions } from "../../core/options.js";
import { runIdForDrop } from "../../core/run-ids.js";
import type { Run } from "../../core/run-record.js";
import {
  defaultModelName,
  isTerminal,
  JOB_STEPS,
  jobName,
  type RunStatus,
} from "../../core/runs.js";

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

/**
 * The Runs table's Query as DynamoDB answers it, in memory: the partition of the named index
 * (its key attributes as serverless.yml declares them) sorted by createdAt, `Limit` counting
 * items read before the FilterExpression (`a.b = :v AND …`) drops some, and a LastEvaluatedKey
 * whenever the read stopped at `Limit`, even with nothing left.
 */
const INDEX_PARTITION: Record<string, string> = {
  byCreated: "listed",
  byStatus: "status",
  byModel: "modelName",
  byDataset: "datasetName",
  byKind: "kind",
};

type Item = Record<string, unknown>;

function attribute(item: Item, path: string, names: Record<string, string>): unknown {
  let value: unknown = item;
  for (const part of path.split(".")) {
    const name = names[part] ?? part;
    value = typeof value === "object" && value !== null ? (value as Item)[name] : undefined;
  }
  return value;
}

function matches(item: Item, expression: string | undefined, input: QueryCommand["input"]) {
  if (!expression) return true;
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  return expression.split(" AND ").every((term) => {
    const [path = "", placeholder = ""] = term.split(" = ");
    return attribute(item, path.trim(), names) === values[placeholder.trim()];
  });
}

function fakeTable() {
  const items: Item[] = [];
  const queries: QueryCommand["input"][] = [];
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "fake", secretAccessKey: "fake" },
    }),
  );
  vi.spyOn(db, "send").mockImplementation(async (command: unknown) => {
    if (command instanceof PutCommand) {
      items.push(structuredClone(command.input.Item ?? {}));
      return {};
    }
    if (!(command instanceof QueryCommand)) throw new Error("the fake table serves Put and Query");
    const input = command.input;
    queries.push(input);
    const partition = INDEX_PARTITION[input.IndexName ?? ""];
    if (!partition) throw new Error(`no index ${input.IndexName}`);
    const inPartition = items
      .filter(
        (item) =>
          item[partition] !== undefined && matches(item, input.KeyConditionExpression, input),
      )
      .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    const after = input.ExclusiveStartKey?.id;
    const from = after === undefined ? 0 : inPartition.findIndex((item) => item.id === after) + 1;
    const read = inPartition.slice(from, from + (input.Limit ?? inPartition.length));
    const last = read.at(-1);
    return {
      Items: read.filter((item) => matches(item, input.FilterExpression, input)),
      ...(last && read.length === input.Limit
        ? {
            LastEvaluatedKey: {
              id: last.id,
              [partition]: last[partition],
              createdAt: last.createdAt,
            },
          }
        : {}),
    };
  });
  return { store: new RunsStore(db, "runs"), queries };
}

const STATUSES: RunStatus[] = ["SUCCEEDED", "FAILED", "BELOW_THRESHOLD", "RUNNING"];

/** 30 runs a minute apart, oldest first; a few match each filter, most of them among the older. */
function thirtyRuns(): Run[] {
  return Array.from({ length: 30 }, (_, i) => {
    const dataset = i % 9 === 1 ? "good.csv" : `other-${i}.csv`;
    const run = queuedTrainingRun({
      id: `run-${String(i).padStart(2, "0")}`,
      bucket: "data",
      key: `inbox/${dataset}`,
      versionId: "v1",
      now: new Date(Date.UTC(2026, 0, 1, 0, i)),
      options: { modelName: i % 7 === 2 ? "churn" : `model-${i % 5}` },
    });
    return {
      ...run,
      kind: i % 6 === 0 ? "predict" : "train",
      status: STATUSES[i % STATUSES.length] ?? "QUEUED",
    };
  });
}

function matchesFilter(run: Run, filter: RunFilter): boolean {
  return (
    (filter.status === undefined || run.status === filter.status) &&
    (filter.model === undefined || run.modelName === filter.model) &&
    (filter.dataset === undefined || run.dataset.name === filter.dataset) &&
    (filter.kind === undefined || run.kind === filter.kind)
  );
}

async function seededStore() {
  const table = fakeTable();
  const runs = thirtyRuns();
  for (const run of runs) await table.store.create(run);
  return { ...table, runs };
}

describe("listing runs", () => {
  it("fills a page filtered by dataset though the matches lie past the first runs read", async () => {
    const { store } = await seededStore();

    const first = await store.list({ dataset: "good.csv" }, 2);
    const second = await store.list({ dataset: "good.csv" }, 2, first.next);

    expect(first.runs.map((run) => run.id)).toEqual(["run-28", "run-19"]);
    expect(second.runs.map((run) => run.id)).toEqual(["run-10", "run-01"]);
    expect(second.next).toBeUndefined();
  });

  it.each<RunFilter>([
    {},
    { status: "FAILED" },
    { model: "churn" },
    { dataset: "good.csv" },
    { kind: "predict" },
    { status: "SUCCEEDED", model: "model-0" },
    { dataset: "good.csv", kind: "train" },
    { status: "FAILED", kind: "train" },
    { model: "churn", kind: "train", status: "RUNNING" },
  ])(
    "returns full pages until the last, and exactly the runs matching %j, newest first",
    async (filter) => {
      const { store, runs } = await seededStore();
      const expected = runs
        .filter((run) => matchesFilter(run, filter))
        .map((run) => run.id)
        .reverse();

      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(filter, 2, cursor);
        pages.push(page.runs.map((run) => run.id));
        cursor = page.next;
      } while (cursor && pages.length < 40);

      expect(expected.length).toBeGreaterThan(0);
      expect(pages.flat()).toEqual(expected);
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(2);
      expect(pages.at(-1)?.length).toBeGreaterThan(0);
    },
  );

  it("keys the Query on the filter's own index rather than filtering every run", async () => {
    const { store, queries } = await seededStore();

    await store.list({ dataset: "good.csv", kind: "train" }, 5);
    await store.list({ kind: "predict" }, 5);

    expect(queries.map((query) => query.IndexName)).toEqual(["byDataset", "byKind"]);
  });

  it("refuses a cursor from a listing of another dataset", async () => {
    const { store } = await seededStore();
    const page = await store.list({ dataset: "good.csv" }, 1);

    await expect(store.list({ dataset: "other-3.csv" }, 1, page.next)).rejects.toMatchObject({
      field: "cursor",
    });
  });
});
