/**
 * The one notice a run sends when it ends: an SNS subject (ASCII, at most 100 characters, as SNS
 * requires) that says the outcome, and a plain-text body that email and Slack both show.
 */
import type { Run } from "./run-record.js";

export interface Notice {
  subject: string;
  text: string;
}

const SUBJECT_LIMIT = 100;

const OUTCOME: Record<string, string> = {
  SUCCEEDED: "model ready",
  BELOW_THRESHOLD: "below threshold",
  FAILED: "failed",
  STOPPED: "stopped",
};

/** Printable ASCII only, no line breaks: what SNS accepts in a subject. */
function printableAscii(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]+/g, "?")
    .replace(/\s+/g, " ")
    .trim();
}

function shorten(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, Math.max(0, limit - 3)).trimEnd()}...`;
}

/** Printable ASCII, at most 100 characters: what SNS accepts in a subject. */
export function asciiSubject(text: string): string {
  return shorten(printableAscii(text), SUBJECT_LIMIT);
}

/**
 * `modeldrop: <dataset> <outcome>`: a long dataset name is shortened, never the outcome, so the
 * subject line alone says how the run ended.
 */
function subjectLine(dataset: string, outcome: string): string {
  const head = "modeldrop: ";
  const tail = ` ${printableAscii(outcome)}`;
  const room = SUBJECT_LIMIT - head.length - tail.length;
  return asciiSubject(`${head}${shorten(printableAscii(dataset), room)}${tail}`);
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function metricLine(run: Run): string | undefined {
  if (!run.metrics || Object.keys(run.metrics).length === 0) return undefined;
  const parts = Object.entries(run.metrics).map(([name, value]) => {
    const shown = `${name} ${value.toFixed(4)}`;
    if (run.gate?.metric !== name) return shown;
    const sign = run.gate.direction === "higher" ? ">=" : "<=";
    return `${shown} (gate ${sign} ${run.gate.threshold}: ${run.gate.passed ? "passed" : "not met"})`;
  });
  return `Test metrics: ${parts.join(", ")}`;
}

/** The search in a few lines: the winner and why, what was cut short or left out. */
function searchLines(run: Run): string[] {
  const search = run.search;
  if (!search) return [];
  const lines = [
    `Chosen: ${search.winner} of ${search.candidates.length} candidate(s): ${search.why}.`,
  ];
  if (search.cutShort)
    lines.push(
      `Search: cut short by its time budget (${search.budgetSeconds ?? "?"} s) for ${search.candidates
        .filter((c) => c.stoppedBy === "budget")
        .map((c) => c.algorithm)
        .join(", ")}; a larger timeBudgetSeconds or the best preset searches longer.`,
    );
  for (const left of search.failed ?? [])
    lines.push(`Left out: ${left.step} failed (${left.error}): ${left.reason}`);
  return lines;
}

export function buildNotice(run: Run, now: Date = new Date()): Notice {
  const outcome = OUTCOME[run.status] ?? run.status.toLowerCase();
  const failedAt = run.status === "FAILED" && run.failure ? ` at ${run.failure.step}` : "";
  const model =
    run.status === "SUCCEEDED" && run.model?.version !== undefined
      ? ` - ${run.model.name} v${run.model.version}`
      : "";
  const subject = subjectLine(run.dataset.name, `${outcome}${failedAt}${model}`);

  const started = Date.parse(run.createdAt);
  const ended = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  const lines = [
    `Run ${run.id}: ${run.status}`,
    `Dataset: s3://${run.dataset.bucket}/${run.dataset.key} (version ${run.dataset.versionId})`,
  ];
  if (run.status === "SUCCEEDED")
    lines.push(
      `Outcome: the model passed its quality gate and is registered as ${run.model?.name} version ${run.model?.version} (${run.model?.approval}).`,
    );
  if (run.status === "BELOW_THRESHOLD")
    lines.push(
      `Outcome: the model did not reach its quality gate (${run.gate?.metric} ${run.gate?.value.toFixed(4)}, needed ${run.gate?.direction === "lower" ? "<=" : ">="} ${run.gate?.threshold}); it was not registered as Approved.`,
    );
  if (run.status === "STOPPED") lines.push("Outcome: the run was stopped before it finished.");
  if (run.status === "FAILED" && run.failure) {
    lines.push(`Failed step: ${run.failure.step}`);
    lines.push(`Reason: ${run.failure.reason}`);
    if (run.failure.log)
      lines.push(
        `Log: CloudWatch Logs group ${run.failure.log.group}, streams starting ${run.failure.log.streamPrefix}`,
      );
  }
  const metrics = metricLine(run);
  if (metrics) lines.push(metrics);
  lines.push(...searchLines(run));
  if (run.code)
    lines.push(
      `Code: ${run.code.name} version ${run.code.version} (sha256 ${run.code.sha256.slice(0, 12)})`,
    );
  if (run.model?.version !== undefined && run.status !== "SUCCEEDED")
    lines.push(`Model: ${run.model.name} version ${run.model.version} (${run.model.approval})`);
  if (Number.isFinite(started) && Number.isFinite(ended))
    lines.push(`Duration: ${duration((ended - started) / 1000)}`);
  if (run.cost)
    lines.push(
      `Cost: $${run.cost.totalUsd.toFixed(4)} of SageMaker time (price table of ${run.cost.priceTable.date}${run.cost.unpriced.length > 0 ? `; not priced: ${run.cost.unpriced.join(", ")}` : ""})`,
    );
  if (run.report) lines.push(`Report: ${run.report}`);
  if (run.predictions) lines.push(`Predictions: ${run.predictions}`);
  for (const note of run.notes) lines.push(`Note: ${note}`);
  return { subject, text: `${lines.join("\n")}\n` };
}
