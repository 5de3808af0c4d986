// The runs the benchmarks store: seeded, so every run of a benchmark writes the same records,
// in the shape RunsStore.create writes (the Run record plus `listed: "run"`), with varied
// statuses, kinds, model names and sizes and createdAt spread over a year, written straight into
// the Runs table with BatchWriteItem. bench/runs_listing.ts and bench/dashboard.ts use them.
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { newRunId, runIdForDrop } from "../core/run-ids.js";
import type { JobKind, Run, RunCost } from "../core/run-record.js";
import type { RunStatus } from "../core/runs.js";
import { round } from "./stats.js";

export const BATCH = 25;
const WRITERS = 4;
const BUCKET = "modeldrop-local-data";
const DAY_MS = 86_400_000;
/** The newest seeded run is this old; the oldest, a year older. */
const SPAN_MS = 365 * DAY_MS;
export const MODELS = Array.from({ length: 40 }, (_, i) => {
  const stems = ["churn", "leads", "fraud", "prices", "demand", "returns", "credit", "flowers"];
  return `${stems[i % stems.length]}-${["v", "eu", "us", "test", "prod"][i % 5]}${Math.floor(i / 8)}`;
});
/** Weighted like a team's history: mostly finished runs, a few in flight. */
const STATUSES: [RunStatus, number][] = [
  ["SUCCEEDED", 0.62],
  ["BELOW_THRESHOLD", 0.1],
  ["FAILED", 0.16],
  ["STOPPED", 0.04],
  ["RUNNING", 0.05],
  ["QUEUED", 0.03],
];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** mulberry32: the same runs every time. */
function seeded(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run `index` of `total`: older for lower indexes, a realistic record for its kind and status. */
function makeRun(index: number, total: number, newest: number, random: () => number): Run {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const hex = (length: number) =>
    Array.from({ length }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
  const roll = random();
  let cumulative = 0;
  const status =
    STATUSES.find(([, weight]) => {
      cumulative += weight;
      return roll < cumulative;
    })?.[0] ?? "SUCCEEDED";
  const kind = random() < 0.8 ? "train" : "predict";
  const modelName = pick(MODELS);
  const created = newest - SPAN_MS + Math.floor(((index + random()) / total) * SPAN_MS);
  const createdAt = new Date(created).toISOString();
  const stem = `${modelName.split("-")[0]}-${new Date(created).toISOString().slice(0, 10)}`;
  const key = kind === "train" ? `inbox/${stem}.csv` : `predict/${modelName}/${stem}-batch.csv`;
  const versionId = hex(32);
  const id =
    random() < 0.7
      ? runIdForDrop(BUCKET, key, versionId)
      : newRunId(
          new Date(created),
          Uint8Array.from({ length: 10 }, () => Math.floor(random() * 256)),
        );
  const ended = status !== "RUNNING" && status !== "QUEUED";
  const jobSeconds = { preprocess: 95, train: 420, evaluate: 70, transform: 110 };
  const steps: Run["steps"] = {};
  let at = created + 4_000;
  const jobSteps = kind === "train" ? Object.keys(jobSeconds) : ["transform"];
  const reached =
    status === "QUEUED"
      ? 0
      : status === "FAILED" || status === "STOPPED" || status === "RUNNING"
        ? 1 + Math.floor(random() * jobSteps.length)
        : jobSteps.length;
  for (const step of jobSteps.slice(0, reached)) {
    const seconds = Math.round(
      (jobSeconds[step as keyof typeof jobSeconds] ?? 60) * (0.5 + random()),
    );
    steps[step] = {
      job: `md-${id}-${step}`.slice(0, 63),
      instanceType: step === "train" ? "ml.m5.xlarge" : "ml.m5.large",
      startedAt: new Date(at).toISOString(),
      endedAt: new Date(at + seconds * 1000).toISOString(),
      seconds,
    };
    at += seconds * 1000 + 3_000;
  }
  const endedAt = ended ? new Date(at).toISOString() : undefined;
  const accuracy = round(0.7 + random() * 0.28, 4);
  const trained = kind === "train" && (status === "SUCCEEDED" || status === "BELOW_THRESHOLD");
  const version = 1 + Math.floor((index / total) * 60);
  return {
    id,
    kind,
    status,
    createdAt,
    updatedAt: endedAt ?? new Date(at).toISOString(),
    ...(endedAt ? { endedAt } : {}),
    dataset: { bucket: BUCKET, key, versionId, name: key.split("/").at(-1) ?? key, kind: "table" },
    options:
      kind === "train"
        ? {
            target: "converted",
            modelName,
            hyperparameters: { num_round: 100 + 50 * Math.floor(random() * 4), max_depth: 6 },
            ...(random() < 0.3 ? { ignoreColumns: ["customer_id", "signup_date"] } : {}),
          }
        : { modelName },
    optionsSource: pick(["metadata", "sidecar", "none", "request"] as const),
    notes:
      random() < 0.4
        ? ["target inferred as binary from 2 distinct values in column converted"]
        : [],
    modelName,
    ...(random() < 0.05 ? { retryOf: newRunId(new Date(created - DAY_MS)) } : {}),
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:modeldrop-local-pipeline:${id}`,
    ...(ended ? {} : { step: jobSteps[Math.min(reached, jobSteps.length - 1)] }),
    steps,
    ...(trained
      ? {
          metrics: {
            accuracy,
            precision: round(accuracy - 0.03, 4),
            recall: round(accuracy - 0.05, 4),
            f1: round(accuracy - 0.04, 4),
            roc_auc: round(Math.min(0.999, accuracy + 0.05), 4),
            log_loss: round(1 - accuracy, 4),
          },
          gate: {
            metric: "accuracy",
            threshold: 0.8,
            value: accuracy,
            direction: "higher",
            passed: status === "SUCCEEDED",
          },
          ...(status === "SUCCEEDED"
            ? {
                model: {
                  name: modelName,
                  version,
                  approval: "Approved",
                  artifact: `s3://${BUCKET}/runs/${id}/model/model.tar.gz`,
                },
              }
            : {}),
        }
      : {}),
    ...(kind === "predict" && status === "SUCCEEDED"
      ? {
          model: { name: modelName, version },
          predictions: `s3://${BUCKET}/runs/${id}/predictions/`,
        }
      : {}),
    ...(ended && reached > 0
      ? {
          cost: {
            totalUsd: round(random() * 0.4, 4),
            steps: Object.entries(steps).map(([step, timing]) => ({
              step,
              kind: (step === "train"
                ? "training"
                : step === "transform"
                  ? "transform"
                  : "processing") as JobKind,
              instanceType: timing.instanceType ?? "ml.m5.large",
              seconds: timing.seconds ?? 0,
              usd: round(((timing.seconds ?? 0) / 3600) * 0.23, 4),
            })),
            unpriced: [],
            priceTable: { date: "2025-01-15", region: "us-east-1" },
          } satisfies RunCost,
        }
      : {}),
    ...(status === "FAILED"
      ? {
          failure: {
            step: Object.keys(steps).at(-1) ?? "intake",
            error: "AlgorithmError",
            reason:
              "ValueError: could not convert string to float: 'n/a' (column income, row 1834). Check the column's values or list it in ignoreColumns.",
            log: {
              group: "/aws/sagemaker/TrainingJobs",
              streamPrefix: `md-${id}-train`.slice(0, 63),
            },
          },
        }
      : {}),
    lineage: {
      codeSha256: hex(64),
      images: {
        processing:
          "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        training: "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
      },
      libraries: { xgboost: "1.7.6", "scikit-learn": "1.2.2", pandas: "2.2.3" },
      algorithm: "xgboost",
    },
    ...(ended && kind === "train"
      ? { report: `s3://${BUCKET}/runs/${id}/report/report.html` }
      : {}),
    ...(ended ? { noticeSentAt: new Date(at + 2_000).toISOString() } : {}),
  };
}

/** Writes the items 25 a batch, `WRITERS` batches at a time, retrying unprocessed items. */
export async function seed(db: DynamoDBDocumentClient, table: string, runs: Run[]): Promise<void> {
  const batches: Run[][] = [];
  for (let i = 0; i < runs.length; i += BATCH) batches.push(runs.slice(i, i + BATCH));
  let next = 0;
  const writer = async () => {
    for (let batch = batches[next++]; batch; batch = batches[next++]) {
      let requests = batch.map((run) => ({ PutRequest: { Item: { ...run, listed: "run" } } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 5) throw new Error("BatchWriteItem kept leaving items unprocessed");
        const result = await db.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests } }),
        );
        requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
        if (requests.length > 0) await sleep(50 * 2 ** attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

export async function countRuns(db: DynamoDBDocumentClient, table: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: "byCreated",
        KeyConditionExpression: "listed = :listed",
        ExpressionAttributeValues: { ":listed": "run" },
        Select: "COUNT",
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * `large` runs, oldest first, and the `small` of them spread over the same year, to be written
 * first (`first`) and measured before the `rest` are written.
 */
export function seededRuns(
  small: number,
  large: number,
): { runs: Run[]; first: Run[]; rest: Run[] } {
  const random = seeded(6);
  const newest = Date.now() - DAY_MS;
  const runs = Array.from({ length: large }, (_, i) => makeRun(i, large, newest, random));
  const stride = Math.floor(large / small);
  const first = runs.filter((_, i) => i % stride === 0).slice(0, small);
  const rest = runs.filter((run) => !first.includes(run));
  return { runs, first, rest };
}

/**
 * Waits until this process (the local cloud runs in it, dynalite's LevelDB compaction threads
 * included) has used under a tenth of a core for two half-seconds in a row, at most `capS`.
 */
export async function settle(capS = 30): Promise<number> {
  const started = performance.now();
  let quiet = 0;
  while (quiet < 2 && performance.now() - started < capS * 1000) {
    const before = process.cpuUsage();
    await sleep(500);
    const used = process.cpuUsage(before);
    quiet = (used.user + used.system) / 1000 < 50 ? quiet + 1 : 0;
  }
  return (performance.now() - started) / 1000;
}
