// Dashboard benchmark: what the page weighs, and how long the runs list takes to show its first
// run with few and with many runs stored.
//
//   npm run bench:dashboard                                       # 10 and 10,000 runs, 10 loads
//   npx tsx bench/dashboard.ts --large 500 --loads 3              # quick smoke run
//
// Bundle: web/build.ts's buildDashboard builds the page; index.html, the script and the
// stylesheet are weighed raw and gzipped (node:zlib gzipSync, level 9, as handlers/dashboard.ts
// serves them to a browser that accepts gzip). Where the script's bytes come from: esbuild is
// rerun with the same options (dashboardBuildOptions) and `metafile: true, write: false`, and
// each input's bytesInOutput (minified, before gzip) is summed by npm package, or by top-level
// folder for the project's own files. Target: the whole page ≤ 250 KiB (250 × 1024 bytes) gzipped.
//
// First render: the packaged stack on the local cloud (startPipelineCloud, which builds the
// dashboard into the package), `--small` runs written into the Runs table (bench/seed-runs.ts,
// the same runs as bench/runs_listing.ts), then more up to `--large`. At each size, after the
// cloud is idle: `--warmup` untimed page loads, then `--loads` timed ones, each in a fresh
// browser context of one headless Chromium (so nothing is cached) with the API token put in
// sessionStorage by an init script, opening `<api>/#/runs`. A second init script installs a
// MutationObserver that reads `performance.now()` (milliseconds since the navigation started,
// so the harness is not in it) the first time `table.runs tbody tr a` is in the DOM. The
// page's transferred bytes are the navigation entry's transferSize plus every resource entry's
// that started before that moment (the page polls the list again ~1.5 s later). After each load
// the bare API call the page makes, `GET /runs?limit=25` with the bearer token from node, is
// timed until its body is parsed (`--requests` in all, spread over the loads), so first render
// can be given over the API's own answer time: the machine is shared and noisy, so ratios from
// one run are what count. Targets: first render's median at `--large` ≤ 1500 ms (on the
// shared 2-core machine), and its median at `--large` / at `--small` ≤ 1.5 (the list reads a
// page by a Query, so the table's size should not show). Figures go to
// bench/results/dashboard.{json,md}.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { buildSync } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/chromium.js";
import { startPipelineCloud } from "../test/integration/pipeline-stack.js";
import { buildDashboard, dashboardBuildOptions } from "../web/build.js";
import { countRuns, seed, seededRuns, settle } from "./seed-runs.js";
import { median, percentile, round } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const RESULTS = resolve(ROOT, "bench", "results");
const KIB = 1024;
const TARGET_PAGE_GZIP_KIB = 250;
const TARGET_FIRST_RENDER_MS = 1500;
const TARGET_RATIO = 1.5;
/** The runs page asks for this many runs (web/pages/runs.tsx PAGE_SIZE). */
const PAGE_SIZE = 25;
const TOKEN_KEY = "modeldrop.token";
const FIRST_ROW = "table.runs tbody tr a";
const TOP_INPUTS = 8;

const gzipBytes = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;

interface FileSize {
  file: string;
  bytes: number;
  gzip_bytes: number;
}

/** Builds the page as packaging does and weighs what a browser fetches. */
function measureBundle() {
  const built = buildDashboard(ROOT);
  const find = (test: (path: string) => boolean, what: string) => {
    const path = built.files.map((file) => file.path).find(test);
    if (!path) throw new Error(`the dashboard build has no ${what}`);
    return path;
  };
  const page = [
    find((path) => basename(path) === "index.html", "index.html"),
    find((path) => path.endsWith(".js"), "script"),
    find((path) => path.endsWith(".css"), "stylesheet"),
  ];
  const files: FileSize[] = page.map((path) => {
    const bytes = readFileSync(path);
    return { file: relative(ROOT, path), bytes: bytes.length, gzip_bytes: gzipBytes(bytes) };
  });
  const total = {
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    gzip_bytes: files.reduce((sum, file) => sum + file.gzip_bytes, 0),
  };

  // The same build in memory, for its metafile: which inputs the script's bytes come from.
  const analysed = buildSync({ ...dashboardBuildOptions(ROOT), metafile: true, write: false });
  const scriptPath = page[1] ?? "";
  const [, script] =
    Object.entries(analysed.metafile.outputs).find(
      ([path]) => resolve(process.cwd(), path) === scriptPath,
    ) ?? [];
  if (!script || script.bytes !== readFileSync(scriptPath).length)
    throw new Error("rerunning esbuild with dashboardBuildOptions did not make the same script");
  const groups = new Map<string, { bytes: number; files: number }>();
  for (const [input, { bytesInOutput }] of Object.entries(script.inputs)) {
    const group = inputGroup(relative(ROOT, resolve(process.cwd(), input)));
    const sum = groups.get(group) ?? { bytes: 0, files: 0 };
    groups.set(group, { bytes: sum.bytes + bytesInOutput, files: sum.files + 1 });
  }
  const inputs = [...groups.entries()]
    .map(([group, sum]) => ({
      group,
      files: sum.files,
      bytes: sum.bytes,
      share: round(sum.bytes / script.bytes, 3),
    }))
    .sort((a, b) => b.bytes - a.bytes);
  const legal = built.files.find((file) => file.path.endsWith(".LEGAL.txt"));
  return {
    files,
    total,
    script_inputs: inputs.slice(0, TOP_INPUTS),
    script_input_groups: inputs.length,
    /** Written next to the script by `legalComments: "external"`; the page never fetches it. */
    ...(legal ? { legal_comments: { file: relative(ROOT, legal.path), bytes: legal.bytes } } : {}),
  };
}

/** `react-dom` for node_modules/react-dom/…, `@scope/name` for scoped packages, else `web/`. */
function inputGroup(path: string): string {
  const marker = "node_modules/";
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const parts = path.slice(at + marker.length).split("/");
    return (parts[0]?.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
  }
  const [top, ...rest] = path.split("/");
  return rest.length > 0 ? `${top}/ (this project)` : `${top} (this project)`;
}

/** What the page itself records at the first run row (see `observeFirstRow`). */
interface PageTiming {
  first_row_ms: number;
  rows: number;
  transfer_bytes: number;
  html_response_end_ms: number;
  script_response_end_ms: number;
  dom_content_loaded_ms: number;
  list_request_start_ms: number;
  list_response_end_ms: number;
}

interface Marked {
  firstRunRow?: { at: number; rows: number };
}

/** An init script: the page's own clock when the first run row is in the DOM. */
function observeFirstRow(selector: string) {
  const marked = globalThis as Marked;
  const observer = new MutationObserver(() => {
    if (marked.firstRunRow || !document.querySelector(selector)) return;
    marked.firstRunRow = {
      at: performance.now(),
      rows: document.querySelectorAll("table.runs tbody tr").length,
    };
    observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true });
}

/** In the page, after the first row: its timings, all navigation-relative. */
function readPageTiming(): PageTiming | undefined {
  const first = (globalThis as Marked).firstRunRow;
  if (!first) return undefined;
  const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
  const resources = (
    performance.getEntriesByType("resource") as PerformanceResourceTiming[]
  ).filter((entry) => entry.startTime <= first.at);
  const script = resources.find((entry) => /\/assets\/app-[^/]*\.js$/.test(entry.name));
  const list = resources.find((entry) => new URL(entry.name).pathname === "/runs");
  return {
    first_row_ms: first.at,
    rows: first.rows,
    transfer_bytes:
      (navigation?.transferSize ?? 0) +
      resources.reduce((sum, entry) => sum + entry.transferSize, 0),
    html_response_end_ms: navigation?.responseEnd ?? -1,
    script_response_end_ms: script?.responseEnd ?? -1,
    dom_content_loaded_ms: navigation?.domContentLoadedEventEnd ?? -1,
    list_request_start_ms: list?.startTime ?? -1,
    list_response_end_ms: list?.responseEnd ?? -1,
  };
}

/** One load of `<api>/#/runs` in a fresh context: nothing cached, the token already stored. */
async function loadRunsPage(browser: Browser, api: string, token: string): Promise<PageTiming> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript(
      ({ key, value }) => {
        try {
          sessionStorage.setItem(key, value);
        } catch {
          // about:blank has no storage; the dashboard's own document does.
        }
      },
      { key: TOKEN_KEY, value: token },
    );
    await context.addInitScript(observeFirstRow, FIRST_ROW);
    const page = await context.newPage();
    await page.goto(`${api}/#/runs`, { waitUntil: "commit" });
    try {
      await page.waitForFunction(() => (globalThis as Marked).firstRunRow !== undefined, null, {
        timeout: 60_000,
        polling: 50,
      });
    } catch (failure) {
      const text = (await page.textContent("body").catch(() => null)) ?? "(unreadable)";
      throw new Error(`no run row on ${api}/#/runs; the page says: ${text.slice(0, 400)}`, {
        cause: failure,
      });
    }
    const timing = await page.evaluate(readPageTiming);
    if (!timing) throw new Error("the page lost its first-row mark");
    return timing;
  } finally {
    await context.close();
  }
}

interface Summary {
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  max_ms: number;
}

const summary = (values: number[]): Summary => ({
  median_ms: round(median(values), 1),
  p95_ms: round(percentile(values, 95), 1),
  min_ms: round(Math.min(...values), 1),
  max_ms: round(Math.max(...values), 1),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: "string", default: "10" },
      large: { type: "string", default: "10000" },
      loads: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      requests: { type: "string", default: "20" },
    },
  });
  const small = Number(values.small);
  const large = Number(values.large);
  const loads = Number(values.loads);
  const warmup = Number(values.warmup);
  const requests = Number(values.requests);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is absent (apt-get install chromium)`);
  const benchStarted = performance.now();

  const bundle = measureBundle();
  const { first, rest } = seededRuns(small, large);

  const started = await startPipelineCloud();
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const chromiumVersion = browser.version();
    const open = browser;
    const { cloud, token, config } = started;
    const table = cloud.stack?.outputs.RunsTableName;
    if (!table) throw new Error("the stack has no RunsTableName output");
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const listRuns = async () => {
      const began = performance.now();
      const response = await fetch(`${cloud.apiEndpoint}/runs?limit=${PAGE_SIZE}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { runs?: unknown[] };
      if (response.status !== 200)
        throw new Error(`GET /runs: ${response.status} ${JSON.stringify(body)}`);
      return performance.now() - began;
    };

    const measure = async (stored: number) => {
      const found = await countRuns(db, table);
      if (found !== stored) throw new Error(`expected ${stored} runs stored, found ${found}`);
      const settleS = await settle();
      console.error(`${stored} runs stored: ${warmup} + ${loads} page loads …`);
      const before = loadavg()[0] ?? 0;
      for (let i = 0; i < warmup; i++) {
        await loadRunsPage(open, cloud.apiEndpoint, token);
        await listRuns();
      }
      // Page loads and API calls take turns, so the machine's other load falls on both alike.
      const pages: PageTiming[] = [];
      const api: number[] = [];
      const perLoad = Math.ceil(requests / loads);
      for (let i = 0; i < loads; i++) {
        pages.push(await loadRunsPage(open, cloud.apiEndpoint, token));
        for (let j = 0; j < perLoad && api.length < requests; j++) api.push(await listRuns());
      }
      while (api.length < requests) api.push(await listRuns());
      const load = { before: round(before, 2), after: round(loadavg()[0] ?? 0, 2) };
      const field = (name: keyof PageTiming) => round(median(pages.map((p) => p[name])), 1);
      const firstRender = summary(pages.map((p) => p.first_row_ms));
      const apiTiming = summary(api);
      return {
        first_render: firstRender,
        api_list_runs: { requests, ...apiTiming },
        first_render_over_api: round(firstRender.median_ms / (apiTiming.median_ms || 1), 1),
        rows: pages[0]?.rows ?? 0,
        transfer_bytes: median(pages.map((p) => p.transfer_bytes)),
        /** Medians over the loads, ms after the navigation started. */
        milestones_ms: {
          html_response_end: field("html_response_end_ms"),
          script_response_end: field("script_response_end_ms"),
          dom_content_loaded: field("dom_content_loaded_ms"),
          list_request_start: field("list_request_start_ms"),
          list_response_end: field("list_response_end_ms"),
          first_row: field("first_row_ms"),
        },
        loads: pages.map((p) => round(p.first_row_ms, 1)),
        settle_s: round(settleS, 1),
        load_1min: load,
      };
    };

    let seedStarted = performance.now();
    await seed(db, table, first);
    const seedSmallS = (performance.now() - seedStarted) / 1000;
    const atSmall = await measure(small);
    seedStarted = performance.now();
    await seed(db, table, rest);
    const seedLargeS = (performance.now() - seedStarted) / 1000;
    const atLarge = await measure(large);

    const ratio = (field: "median_ms" | "p95_ms") =>
      round(atLarge.first_render[field] / (atSmall.first_render[field] || 1), 2);
    const ratios = { median: ratio("median_ms"), p95: ratio("p95_ms") };
    const gzipKib = round(bundle.total.gzip_bytes / KIB, 1);
    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, node ${process.version}, Chromium ${chromiumVersion} headless`,
      runs: { small, large },
      loads,
      warmup_loads: warmup,
      bundle,
      seed_s: { small: round(seedSmallS, 2), large: round(seedLargeS, 2) },
      [`runs_${small}`]: atSmall,
      [`runs_${large}`]: atLarge,
      first_render_ratio: ratios,
      targets: {
        page_gzip_kib: {
          target: TARGET_PAGE_GZIP_KIB,
          value: gzipKib,
          met: gzipKib <= TARGET_PAGE_GZIP_KIB,
        },
        first_render_median_ms: {
          target: TARGET_FIRST_RENDER_MS,
          value: atLarge.first_render.median_ms,
          met: atLarge.first_render.median_ms <= TARGET_FIRST_RENDER_MS,
        },
        first_render_median_ratio: {
          target: TARGET_RATIO,
          value: ratios.median,
          met: ratios.median <= TARGET_RATIO,
        },
      },
      bench_s: round((performance.now() - benchStarted) / 1000, 1),
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, "dashboard.json"), `${JSON.stringify(result, null, 2)}\n`);

    const mark = (met: boolean) => (met ? "met" : "MISSED");
    const n = (value: number) => value.toLocaleString("en");
    const kib = (bytes: number) => `${(bytes / KIB).toFixed(1)} KiB`;
    const sizes = [atSmall, atLarge];
    const stored = [small, large];
    const renderRows = sizes.map(
      (at, i) =>
        `| ${n(stored[i] ?? 0)} | ${at.first_render.median_ms} / ${at.first_render.p95_ms} | ${at.api_list_runs.median_ms} | ${at.first_render_over_api} | ${at.rows} | ${kib(at.transfer_bytes)} |`,
    );
    const milestones: [keyof typeof atSmall.milestones_ms, string][] = [
      ["html_response_end", "index.html received"],
      ["script_response_end", "script received"],
      ["dom_content_loaded", "DOMContentLoaded ended (the module script has run)"],
      ["list_request_start", "`GET /runs` sent"],
      ["list_response_end", "`GET /runs` answered"],
      ["first_row", "first run row in the DOM"],
    ];
    const md = [
      "# Dashboard benchmark",
      "",
      `Recorded ${result.date} on ${result.machine} by \`npm run bench:dashboard\`.`,
      "",
      "## Bundle",
      "",
      "What a browser fetches for the page, raw and gzipped (level 9, as the dashboard function",
      "serves it); KiB = 1024 bytes.",
      "",
      "| file | bytes | gzipped bytes |",
      "|---|---|---|",
      ...bundle.files.map((file) => `| ${file.file} | ${n(file.bytes)} | ${n(file.gzip_bytes)} |`),
      `| **the page** | ${n(bundle.total.bytes)} (${kib(bundle.total.bytes)}) | ${n(bundle.total.gzip_bytes)} (${kib(bundle.total.gzip_bytes)}) |`,
      "",
      "The script's biggest inputs (esbuild's metafile, minified bytes before gzip, by npm package",
      `or project folder; ${bundle.script_input_groups > TOP_INPUTS ? `the top ${TOP_INPUTS} of ${bundle.script_input_groups}` : `all ${bundle.script_input_groups}`}):`,
      "",
      "| input | files | bytes | share of the script |",
      "|---|---|---|---|",
      ...bundle.script_inputs.map(
        (input) =>
          `| ${input.group} | ${input.files} | ${n(input.bytes)} | ${(input.share * 100).toFixed(1)}% |`,
      ),
      "",
      "## First render of the runs list",
      "",
      `${warmup} untimed load then ${loads} timed ones at each size, each in a fresh browser context;`,
      "first render is the page's own `performance.now()` when a MutationObserver first sees",
      `\`${FIRST_ROW}\`, so it counts from the navigation's start. The API is \`GET /runs?limit=${PAGE_SIZE}\``,
      `(what the page asks for) from node with the bearer token, ${requests} calls taking turns with the loads.`,
      "",
      "| runs stored | first render median / p95 ms | API median ms | first render / API | rows shown | transferred (median) |",
      "|---|---|---|---|---|---|",
      ...renderRows,
      "",
      "Where the time goes (medians, ms after the navigation started):",
      "",
      `| milestone | ${sizes.map((_, i) => `${n(stored[i] ?? 0)} runs`).join(" | ")} |`,
      `|---|${sizes.map(() => "---|").join("")}`,
      ...milestones.map(
        ([name, label]) =>
          `| ${label} | ${sizes.map((at) => at.milestones_ms[name]).join(" | ")} |`,
      ),
      "",
      "| target | value | |",
      "|---|---|---|",
      `| the page gzipped | ${gzipKib} KiB | ≤ ${TARGET_PAGE_GZIP_KIB} KiB: ${mark(result.targets.page_gzip_kib.met)} |`,
      `| first render median at ${n(large)} runs (2-core shared machine) | ${atLarge.first_render.median_ms} ms | ≤ ${TARGET_FIRST_RENDER_MS} ms: ${mark(result.targets.first_render_median_ms.met)} |`,
      `| first render median ${n(large)} / ${small} | ${ratios.median} | ≤ ${TARGET_RATIO}: ${mark(result.targets.first_render_median_ratio.met)} |`,
      "",
      `p95 ${n(large)} / ${small}: ${ratios.p95}. Seeding: ${small} runs in ${result.seed_s.small} s, ${n(rest.length)} more in ${result.seed_s.large} s, then ${atLarge.settle_s} s until the cloud was idle. Load average (1 min) over the timing: ${atSmall.load_1min.before}–${atSmall.load_1min.after} at ${small} runs, ${atLarge.load_1min.before}–${atLarge.load_1min.after} at ${n(large)}. Whole bench: ${result.bench_s} s.`,
      "",
    ].join("\n");
    writeFileSync(join(RESULTS, "dashboard.md"), md);
    console.log(md);
    if (Object.values(result.targets).some((target) => !target.met)) process.exitCode = 1;
  } finally {
    await browser?.close();
    await started.cleanup();
  }
}

await main();
