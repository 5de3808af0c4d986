/**
 * The run commands: drop, runs, show, follow, logs, cancel, retry, predict, report. Progress
 * goes to stderr and results to stdout, so `--json` output can be piped.
 */
import { statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { z } from "zod";
import { Accepted, LogPage, RunDetail, RunPage, Upload } from "../core/api.js";
import { duration } from "../core/notice.js";
import { InvalidOptions, parseRunOptions, type RunOptions } from "../core/options.js";
import { type Api, CliError, postFile } from "./client.js";

type Run = z.output<typeof RunDetail>;
const TERMINAL = new Set(["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"]);
const POLL_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `--set hyperparameters.max_depth=4` → `{hyperparameters: {max_depth: 4}}` (JSON values when they parse). */
export function optionsFromFlags(flags: {
  target?: string | undefined;
  task?: string | undefined;
  modelName?: string | undefined;
  set?: string[] | undefined;
}): RunOptions {
  const options: Record<string, unknown> = {};
  if (flags.target) options.target = flags.target;
  if (flags.task) options.task = flags.task;
  if (flags.modelName) options.modelName = flags.modelName;
  for (const pair of flags.set ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) throw new CliError(`--set needs key=value, not ${pair}`, 2);
    const path = pair.slice(0, at).split(".");
    const text = pair.slice(at + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string
    }
    let node = options;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      node[part] = typeof next === "object" && next !== null ? next : {};
      node = node[part] as Record<string, unknown>;
    }
    node[path.at(-1) ?? ""] = value;
  }
  try {
    return parseRunOptions(options);
  } catch (error) {
    if (error instanceof InvalidOptions)
      throw new CliError(error.message, 2, { code: "invalid-options", field: error.field });
    throw error;
  }
}

export async function getRun(api: Api, id: string): Promise<Run> {
  return api.call(RunDetail, "GET", `/runs/${encodeURIComponent(id)}`);
}

/** Uploads a dataset into the inbox and waits for the run its drop starts. */
export async function drop(api: Api, path: string, options: RunOptions): Promise<string> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new CliError(`${path} cannot be read`, 2, { code: "unreadable-file" });
  }
  const upload = await api.call(Upload, "POST", "/uploads", {
    fileName: basename(path),
    size,
    ...(Object.keys(options).length > 0 ? { options } : {}),
  });
  const versionId = await postFile(upload.url, upload.fields, path);
  // The drop's run is recorded by the inbox handler: find it by the version just stored.
  const name = basename(upload.key);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = await api.call(
      RunPage,
      "GET",
      `/runs?dataset=${encodeURIComponent(name)}&limit=20`,
    );
    const run = page.runs.find(
      (r) => r.dataset.key === upload.key && (!versionId || r.dataset.versionId === versionId),
    );
    if (run) return run.id;
    if (Date.now() > deadline)
      throw new CliError(
        `${upload.key} was uploaded but no run started within a minute; see \`modeldrop runs\``,
        1,
        { code: "no-run-started" },
      );
    await sleep(500);
  }
}

function progressBar(done: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(share * width);
  return `${"█".repeat(full)}${"░".repeat(width - full)} ${String(Math.round(share * 100)).padStart(3)}%`;
}

function stepSeconds(run: Run, step: string): number | undefined {
  return run.steps[step]?.seconds;
}

/**
 * Follows a run until its notice went out: each step as it starts and ends, with the running
 * job's progress (a bar on a terminal, plain lines otherwise), on stderr.
 */
export async function follow(
  api: Api,
  id: string,
  out: NodeJS.WriteStream = process.stderr,
): Promise<Run> {
  const tty = Boolean(out.isTTY);
  const started = Date.now();
  let shownStep: string | undefined;
  let stepSince = Date.now();
  let lastLine = "";
  let lastPlain = 0;
  for (;;) {
    const run = await getRun(api, id);
    const step = run.step;
    if (step !== shownStep) {
      if (tty && lastLine) out.write("\r\x1b[K");
      if (shownStep) {
        const seconds = stepSeconds(run, shownStep) ?? (Date.now() - stepSince) / 1000;
        out.write(`  ✓ ${shownStep.padEnd(12)} ${duration(seconds)}\n`);
      }
      shownStep = step;
      stepSince = Date.now();
      lastLine = "";
    }
    if (run.notifiedAt || (TERMINAL.has(run.status) && Date.now() - started > 120_000)) {
      if (tty && lastLine) out.write("\r\x1b[K");
      const last = shownStep ? stepSeconds(run, shownStep) : undefined;
      if (shownStep && last !== undefined)
        out.write(`  ✓ ${shownStep.padEnd(12)} ${duration(last)}\n`);
      return run;
    }
    if (step && !TERMINAL.has(run.status)) {
      const elapsed = duration((Date.now() - stepSince) / 1000);
      const p = run.progress;
      const detail = p ? `${progressBar(p.done, p.total)}  ${p.message}` : "";
      const line = `  … ${step.padEnd(12)} ${elapsed.padEnd(10)} ${detail}`.trimEnd();
      if (tty) {
        out.write(`\r\x1b[K${line.slice(0, (out.columns ?? 100) - 1)}`);
        lastLine = line;
      } else if (line !== lastLine && Date.now() - lastPlain > 5_000) {
        out.write(`${line}\n`);
        lastLine = line;
        lastPlain = Date.now();
      }
    }
    await sleep(POLL_MS);
  }
}

/** The few lines a person wants at the end of a run. */
export function summary(run: Run): string {
  const lines = [`run ${run.id}: ${run.status}`];
  if (run.gate)
    lines.push(
      `  gate:     ${run.gate.metric} ${run.gate.value.toFixed(4)} ${run.gate.direction === "higher" ? ">=" : "<="} ${run.gate.threshold}: ${run.gate.passed ? "passed" : "not met"}`,
    );
  if (run.metrics)
    lines.push(
      `  metrics:  ${Object.entries(run.metrics)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(", ")}`,
    );
  if (run.model?.version !== undefined)
    lines.push(
      `  model:    ${run.model.name} version ${run.model.version} (${run.model.approval})`,
    );
  if (run.model?.artifact) lines.push(`            ${run.model.artifact}`);
  if (run.search) {
    const { search } = run;
    const board = search.candidates
      .map((c) => `${c.algorithm} ${c.score === null ? "–" : c.score.toFixed(4)}`)
      .join(", ");
    lines.push(`  chosen:   ${search.winner}, on validation ${search.metric} (${board})`);
    if (search.cutShort)
      lines.push(
        `            the search was cut short by its ${search.budgetSeconds ?? "?"} s budget`,
      );
    for (const left of search.failed ?? [])
      lines.push(`            left out: ${left.step} failed: ${left.reason}`);
  }
  if (run.failure) {
    lines.push(`  failed:   at ${run.failure.step}: ${run.failure.reason}`);
    if (run.failure.log)
      lines.push(
        `  log:      \`modeldrop logs ${run.id} --step ${run.failure.step}\` (${run.failure.log.group})`,
      );
  }
  if (run.cost)
    lines.push(
      `  cost:     $${run.cost.totalUsd.toFixed(4)} of SageMaker time (prices of ${run.cost.priceTable.date})`,
    );
  if (run.links.evaluation) lines.push(`  metrics:  ${run.links.evaluation.uri}`);
  if (run.links.predictions) lines.push(`  predictions: ${run.links.predictions.uri}`);
  if (run.links.report) lines.push(`  report:   ${run.links.report.url ?? run.links.report.uri}`);
  for (const note of run.notes) lines.push(`  note:     ${note}`);
  for (const problem of noticeProblems(run)) lines.push(`  notice:   ${problem}`);
  return lines.join("\n");
}

/**
 * The notice's deliveries that did not (yet) arrive, one line per channel and destination,
 * from its latest attempt: `email to you@example.com failed after 4 attempts: SMTP …`.
 */
export function noticeProblems(run: Run): string[] {
  const latest = new Map<string, NonNullable<Run["notice"]>["deliveries"][number]>();
  for (const d of run.notice?.deliveries ?? []) {
    const key = `${d.channel} ${d.destination ?? ""}`;
    const seen = latest.get(key);
    if (!seen || d.attempt >= seen.attempt) latest.set(key, d);
  }
  const lines: string[] = [];
  for (const d of latest.values()) {
    const to = d.destination ? `${d.channel} to ${d.destination}` : d.channel;
    if (d.outcome === "failed")
      lines.push(
        `${to} failed after ${d.attempt} attempt${d.attempt === 1 ? "" : "s"}: ${d.detail}`,
      );
    else if (d.outcome === "retrying")
      lines.push(`${to}: attempt ${d.attempt} failed, retrying: ${d.detail}`);
  }
  return lines;
}

/** 0 for a run that succeeded; 1 with its reason otherwise. */
export function runExit(run: Run): number {
  return run.status === "SUCCEEDED" ? 0 : 1;
}

export function reason(run: Run): string {
  if (run.status === "FAILED")
    return `run ${run.id} failed at ${run.failure?.step}: ${run.failure?.reason}`;
  if (run.status === "BELOW_THRESHOLD")
    return `run ${run.id} ended below its quality gate (${run.gate?.metric} ${run.gate?.value.toFixed(4)}, needed ${run.gate?.threshold})`;
  if (run.status === "STOPPED") return `run ${run.id} was stopped`;
  return `run ${run.id} is ${run.status}`;
}

export async function listRuns(api: Api, query: Record<string, string | undefined>) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  return api.call(RunPage, "GET", `/runs${params.size > 0 ? `?${params}` : ""}`);
}

export async function printLogs(
  api: Api,
  id: string,
  step: string | undefined,
  keepFollowing: boolean,
  write: (line: string) => void,
): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const query = new URLSearchParams();
    if (step && !cursor) query.set("step", step);
    if (cursor) query.set("cursor", cursor);
    const page = await api.call(LogPage, "GET", `/runs/${encodeURIComponent(id)}/logs?${query}`);
    for (const event of page.events) write(event.message);
    cursor = page.next;
    if (!keepFollowing) return;
    if (page.events.length === 0) {
      const run = await getRun(api, id);
      if (TERMINAL.has(run.status) && run.step !== page.step) return;
      if (run.notifiedAt) return;
      await sleep(POLL_MS);
    }
  }
}

export async function startAction(api: Api, id: string, action: "cancel" | "retry") {
  return api.call(Accepted, "POST", `/runs/${encodeURIComponent(id)}/${action}`);
}

export async function predict(
  api: Api,
  modelName: string,
  path: string,
  version: number | undefined,
): Promise<string> {
  const upload = await api.call(Upload, "POST", "/uploads", {
    fileName: basename(path),
    size: statSync(path).size,
    purpose: "predict",
  });
  const versionId = await postFile(upload.url, upload.fields, path);
  const started = await api.call(Accepted, "POST", "/predictions", {
    modelName,
    input: upload.key,
    ...(versionId ? { versionId } : {}),
    ...(version !== undefined ? { version } : {}),
  });
  return started.id;
}

/** The report's URL, or with `out` the report saved there (its path). */
export async function report(api: Api, id: string, out?: string): Promise<string> {
  const run = await getRun(api, id);
  const link = run.links.report;
  if (!link)
    throw new CliError(`run ${id} has no report yet (it is ${run.status})`, 1, {
      code: "no-report",
    });
  if (!out) return link.url ?? link.uri;
  if (!link.url)
    throw new CliError(`run ${id}'s report at ${link.uri} cannot be fetched yet`, 1, {
      code: "no-report",
    });
  const response = await fetch(link.url);
  if (!response.ok)
    throw new CliError(`the report could not be fetched: HTTP ${response.status}`, 1, {
      code: "report-unavailable",
      status: response.status,
    });
  writeFileSync(out, Buffer.from(await response.arrayBuffer()));
  return out;
}
