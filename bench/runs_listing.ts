// Runs listing benchmark: `GET /runs` latency with few and with many runs stored.
//
//   npm run bench:runs                                            # 10 and 10,000 runs, 200 requests
//   npx tsx bench/runs_listing.ts --large 2000 --requests 50      # quick smoke run
//
// Through the real HTTP API of the packaged stack on the local cloud, with the bearer token:
// API gateway → authorizer (cached after the first request) → the list-runs Lambda worker →
// a DynamoDB Query on an index, newest first, a page of `--limit` runs. One cloud, one process:
// `--small` runs are written and measured, then more are written up to `--large` and the same
// requests measured again. Runs are written straight into the Runs table with BatchWriteItem
// (25 a batch) in the shape RunsStore.create writes (the Run record plus `listed: "run"`), with
// varied statuses, kinds, model names and sizes and createdAt spread over a year (the seeding is
// bench/seed-runs.ts, shared with bench/dashboard.ts). At each size `--warmup` untimed rounds,
// then `--requests` timed rounds, each round one sequential request per case in turn (timed
// until the body is read and parsed). Besides the unfiltered listing: the same with a page no
// longer than the small table (so both sizes return as many runs), filtered listings (status,
// model, both) and the bare DynamoDB Query behind the unfiltered listing, to see where time
// goes. Target: large / small ≤ 1.5 for the median and for p95 of the unfiltered listing.
// Figures go to bench/results/runs_listing.{json,md}.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { RunStatus } from "../core/runs.js";
import { startPipelineCloud } from "../test/integration/pipeline-stack.js";
import { BATCH, countRuns, MODELS, seed, seededRuns, settle } from "./seed-runs.js";
import { median, percentile, round } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const RESULTS = resolve(ROOT, "bench", "results");
const TARGET_RATIO = 1.5;

interface Timing {
  requests: number;
  median_ms: number;
  p95_ms: number;
  mean_ms: number;
  min_ms: number;
  max_ms: number;
  /** Runs in the page, from the first timed request. */
  page_runs: number;
}

/**
 * `warmup` untimed rounds, then `requests` timed rounds; each round calls every case once, in
 * turn, so drift and the machine's other load fall on all cases alike.
 */
async function timeCases(
  cases: Record<string, () => Promise<number>>,
  warmup: number,
  requests: number,
): Promise<Record<string, Timing>> {
  const entries = Object.entries(cases);
  for (let i = 0; i < warmup; i++) for (const [, call] of entries) await call();
  const times = Object.fromEntries(entries.map(([name]) => [name, [] as number[]]));
  const pageRuns: Record<string, number> = {};
  for (let i = 0; i < requests; i++) {
    for (const [name, call] of entries) {
      const started = performance.now();
      const runs = await call();
      times[name]?.push(performance.now() - started);
      pageRuns[name] ??= runs;
    }
  }
  return Object.fromEntries(
    entries.map(([name]) => {
      const values = times[name] ?? [];
      const timing: Timing = {
        requests,
        median_ms: round(median(values), 2),
        p95_ms: round(percentile(values, 95), 2),
        mean_ms: round(values.reduce((sum, t) => sum + t, 0) / values.length, 2),
        min_ms: round(Math.min(...values), 2),
        max_ms: round(Math.max(...values), 2),
        page_runs: pageRuns[name] ?? 0,
      };
      return [name, timing];
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: "string", default: "10" },
      large: { type: "string", default: "10000" },
      requests: { type: "string", default: "200" },
      warmup: { type: "string", default: "20" },
      limit: { type: "string", default: "20" },
    },
  });
  const small = Number(values.small);
  const large = Number(values.large);
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const limit = Number(values.limit);
  const benchStarted = performance.now();

  // The small set is spread over the same year as the large one.
  const { runs, first, rest } = seededRuns(small, large);
  const itemBytes = runs.map((run) => Buffer.byteLength(JSON.stringify({ ...run, listed: "run" })));
  const filterModel = MODELS[3] ?? "";
  const filterStatus: RunStatus = "SUCCEEDED";

  const started = await startPipelineCloud();
  try {
    const { cloud, token, config } = started;
    const table = cloud.stack?.outputs.RunsTableName;
    if (!table) throw new Error("the stack has no RunsTableName output");
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const list = (query: string) => async () => {
      const response = await fetch(`${cloud.apiEndpoint}/runs?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { runs?: unknown[] };
      if (response.status !== 200)
        throw new Error(`GET /runs?${query}: ${response.status} ${JSON.stringify(body)}`);
      return body.runs?.length ?? 0;
    };
    const query = (index: string, hashName: string, hashValue: string) => async () => {
      const page = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: index,
          KeyConditionExpression: "#h = :h",
          ExpressionAttributeNames: { "#h": hashName },
          ExpressionAttributeValues: { ":h": hashValue },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return page.Items?.length ?? 0;
    };
    const cases = {
      all: list(`limit=${limit}`),
      // The same page size at both sizes: table size alone, not a longer page.
      all_same_page: list(`limit=${Math.min(limit, small)}`),
      by_status: list(`status=${filterStatus}&limit=${limit}`),
      by_model: list(`model=${filterModel}&limit=${limit}`),
      by_status_and_model: list(`status=${filterStatus}&model=${filterModel}&limit=${limit}`),
      dynamodb_query_by_created: query("byCreated", "listed", "run"),
    };
    const measure = async (stored: number) => {
      const found = await countRuns(db, table);
      if (found !== stored) throw new Error(`expected ${stored} runs stored, found ${found}`);
      const settleS = await settle();
      console.error(`${stored} runs stored: timing ${Object.keys(cases).length} cases …`);
      const before = loadavg()[0] ?? 0;
      const timings = await timeCases(cases, warmup, requests);
      const load = { before: round(before, 2), after: round(loadavg()[0] ?? 0, 2) };
      return { timings, settle_s: round(settleS, 1), load_1min: load };
    };

    let seedStarted = performance.now();
    await seed(db, table, first);
    const seedSmallS = (performance.now() - seedStarted) / 1000;
    const measuredSmall = await measure(small);
    const atSmall = measuredSmall.timings;
    seedStarted = performance.now();
    await seed(db, table, rest);
    const seedLargeS = (performance.now() - seedStarted) / 1000;
    const measuredLarge = await measure(large);
    const atLarge = measuredLarge.timings;

    const ratio = (name: string, field: "median_ms" | "p95_ms") =>
      round((atLarge[name]?.[field] ?? 0) / (atSmall[name]?.[field] || 1), 2);
    const ratios = Object.fromEntries(
      Object.keys(cases).map((name) => [
        name,
        { median: ratio(name, "median_ms"), p95: ratio(name, "p95_ms") },
      ]),
    );
    const all = ratios.all ?? { median: 0, p95: 0 };
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, node ${process.version}`,
      runs: { small, large },
      page_limit: limit,
      warmup,
      requests,
      run_item_bytes: {
        median: median(itemBytes),
        min: Math.min(...itemBytes),
        max: Math.max(...itemBytes),
      },
      filters: { status: filterStatus, model: filterModel },
      seed_s: { small: round(seedSmallS, 2), large: round(seedLargeS, 2) },
      /** Time waited after seeding for this process to go quiet (LevelDB compaction). */
      settle_s: { small: measuredSmall.settle_s, large: measuredLarge.settle_s },
      /** The machine's 1-minute load average before and after each size's timing. */
      load_1min: { small: measuredSmall.load_1min, large: measuredLarge.load_1min },
      [`runs_${small}`]: atSmall,
      [`runs_${large}`]: atLarge,
      ratios,
      targets: {
        median_ratio: { target: TARGET_RATIO, value: all.median, met: all.median <= TARGET_RATIO },
        p95_ratio: { target: TARGET_RATIO, value: all.p95, met: all.p95 <= TARGET_RATIO },
      },
      bench_s: round((performance.now() - benchStarted) / 1000, 1),
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "runs_listing.json"), `${JSON.stringify(result, null, 2)}\n`);

    const mark = (met: boolean) => (met ? "met" : "MISSED");
    const labels: Record<string, string> = {
      all: `\`GET /runs?limit=${limit}\``,
      all_same_page: `\`GET /runs?limit=${Math.min(limit, small)}\``,
      by_status: `\`GET /runs?status=${filterStatus}\``,
      by_model: `\`GET /runs?model=${filterModel}\``,
      by_status_and_model: `\`GET /runs?status=${filterStatus}&model=${filterModel}\``,
      dynamodb_query_by_created: "bare DynamoDB Query on byCreated (no API)",
    };
    const rows = Object.keys(cases).map((name) => {
      const a = atSmall[name];
      const b = atLarge[name];
      const r = ratios[name];
      return `| ${labels[name]} | ${a?.median_ms} / ${a?.p95_ms} | ${b?.median_ms} / ${b?.p95_ms} | ${r?.median} / ${r?.p95} | ${a?.page_runs} / ${b?.page_runs} |`;
    });
    const table_md = [
      "# Runs listing benchmark",
      "",
      `Recorded ${result.date} on ${result.machine} by \`npm run bench:runs\`: ${warmup} untimed rounds`,
      `then ${requests} timed ones, each one sequential request per case in turn, run items of`,
      `${result.run_item_bytes.min}–${result.run_item_bytes.max} bytes (median ${result.run_item_bytes.median}).`,
      "",
      `| listing | ${small} runs: median / p95 ms | ${large.toLocaleString("en")} runs: median / p95 ms | ratio median / p95 | runs in page, ${small} / ${large.toLocaleString("en")} |`,
      "|---|---|---|---|---|",
      ...rows,
      "",
      "| target | value | |",
      "|---|---|---|",
      `| median ${large.toLocaleString("en")} / ${small}, unfiltered | ${all.median} | ≤ ${TARGET_RATIO}: ${mark(result.targets.median_ratio.met)} |`,
      `| p95 ${large.toLocaleString("en")} / ${small}, unfiltered | ${all.p95} | ≤ ${TARGET_RATIO}: ${mark(result.targets.p95_ratio.met)} |`,
      "",
      `Seeding (BatchWriteItem, ${BATCH} a batch): ${small} runs in ${result.seed_s.small} s, ${rest.length.toLocaleString("en")} more in ${result.seed_s.large} s, then ${result.settle_s.large} s until the cloud was idle. Load average (1 min) over the timing: ${result.load_1min.small.before}–${result.load_1min.small.after} at ${small} runs, ${result.load_1min.large.before}–${result.load_1min.large.after} at ${large.toLocaleString("en")}. Whole bench: ${result.bench_s} s.`,
      "",
    ].join("\n");
    writeFileSync(join(RESULTS, "runs_listing.md"), table_md);
    console.log(table_md);
    if (!result.targets.median_ratio.met || !result.targets.p95_ratio.met) process.exitCode = 1;
  } finally {
    await started.cleanup();
  }
}

await main();
