/**
 * What the API shows of a run: a summary for listings and the whole record for one run, with
 * links to its outputs. Pure shaping; the workflow (app/runs.ts) fetches links and progress.
 */
import type { RunDetail, RunSummary } from "./api.js";
import type { Run } from "./run-record.js";

function runPath(id: string): string {
  return `/runs/${encodeURIComponent(id)}`;
}

/** The 202 answer to a request that started (or found) a run: where to follow it. */
export function toAccepted(run: Run): { id: string; status: Run["status"]; url: string } {
  return { id: run.id, status: run.status, url: runPath(run.id) };
}

/** Seconds from creation to end, or undefined while the run is on (or a date does not parse). */
function runSeconds(run: Run): number | undefined {
  if (!run.endedAt) return undefined;
  const ms = Date.parse(run.endedAt) - Date.parse(run.createdAt);
  return Number.isFinite(ms) ? Math.max(0, ms) / 1000 : undefined;
}

/**
 * A run as a listing shows it: everything a live list needs from the record alone (its cost,
 * duration and gate metric), so a page of runs costs one query and no read per run.
 */
export function toRunSummary(run: Run): RunSummary {
  const version = run.model?.version;
  const modelName = run.model?.name ?? run.modelName;
  const seconds = runSeconds(run);
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    dataset: { key: run.dataset.key, versionId: run.dataset.versionId, name: run.dataset.name },
    ...(modelName ? { modelName } : {}),
    ...(version !== undefined ? { modelVersion: version } : {}),
    ...(run.step ? { step: run.step } : {}),
    ...(run.cost ? { costUsd: run.cost.totalUsd } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(run.gate ? { metric: { name: run.gate.metric, value: run.gate.value } } : {}),
    url: runPath(run.id),
  };
}

export type RunLinks = RunDetail["links"];
export type LinkedObject = NonNullable<RunLinks["plots"]>[number];
export type RunProgress = NonNullable<RunDetail["progress"]>;

/** Output locations of a run (S3 URIs), for the handler to presign. */
export function outputLocations(
  run: Run,
): Partial<Record<Exclude<keyof RunLinks, "plots">, string>> {
  const root = `s3://${run.dataset.bucket}/runs/${run.id}`;
  return {
    ...(run.model?.artifact && run.kind === "train" ? { model: run.model.artifact } : {}),
    ...(run.metrics ? { evaluation: `${root}/evaluation/evaluation.json` } : {}),
    ...(run.predictions ? { predictions: run.predictions } : {}),
    ...(run.report ? { report: run.report } : {}),
  };
}

/** Where the evaluate job left its PNGs (`runs/<id>/evaluation/plots/`), once the run has metrics. */
export function plotsPrefix(run: Run): string | undefined {
  return run.metrics ? `runs/${run.id}/evaluation/plots/` : undefined;
}

/** The objects among listed keys (folder markers left out), named by their file names. */
export function outputKeys(keys: readonly string[]): { name: string; key: string }[] {
  return keys
    .filter((key) => !key.endsWith("/"))
    .map((key) => ({ name: key.slice(key.lastIndexOf("/") + 1), key }));
}

/** The plot objects among the keys listed under plotsPrefix. */
export function plotKeys(keys: readonly string[]): { name: string; key: string }[] {
  return outputKeys(keys).filter(({ key }) => key.endsWith(".png"));
}

export type NoticeView = NonNullable<RunDetail["notice"]>;
export type NoticeDeliveryView = NoticeView["deliveries"][number];

/** One record of SNS's delivery-status log for the run's notice (aws/delivery-status.ts). */
export interface DeliveryStatusRecord {
  /** When it was logged (epoch ms). */
  at: number;
  status: "SUCCESS" | "FAILURE";
  destination: string;
  attempt: number;
  statusCode?: number;
  detail: string;
  /** Set by the local cloud on a failed attempt that will be retried. */
  nextAttemptAt?: string;
}

/** The subscription kind a delivery-status record's destination belongs to. */
function channelOf(destination: string): string {
  if (destination.startsWith("arn:")) return destination.split(":")[2] ?? "other";
  if (/^https?:\/\//.test(destination)) return destination.split(":")[0] ?? "http";
  return destination.includes("@") ? "email" : "other";
}

/**
 * The notice as GET /runs/{id} shows it: the Slack notifier's own attempts (on the run record)
 * and SNS's delivery-status records, oldest first. A failed attempt is `retrying` when another
 * follows or is scheduled, `failed` when it was the last.
 */
function toNoticeView(run: Run, records: DeliveryStatusRecord[] = []): NoticeView | undefined {
  if (!run.notice && !run.noticeDeliveries?.length && records.length === 0) return undefined;
  const fromLog = records.map((r): NoticeDeliveryView => {
    const retried =
      r.nextAttemptAt !== undefined ||
      records.some((o) => o.destination === r.destination && o.attempt > r.attempt);
    return {
      channel: channelOf(r.destination),
      destination: r.destination,
      attempt: r.attempt,
      at: new Date(r.at).toISOString(),
      outcome: r.status === "SUCCESS" ? "delivered" : retried ? "retrying" : "failed",
      detail: r.detail,
    };
  });
  const fromRun = (run.noticeDeliveries ?? [])
    .filter((d) => !run.notice || !d.messageId || d.messageId === run.notice.messageId)
    .map(
      (d): NoticeDeliveryView => ({
        channel: d.channel,
        attempt: d.attempt,
        at: d.at,
        outcome: d.outcome,
        detail: d.detail,
      }),
    );
  return {
    ...(run.notice ?? {}),
    deliveries: [...fromLog, ...fromRun].sort(
      (a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt,
    ),
  };
}

export function toRunDetail(
  run: Run,
  links: RunLinks,
  progress?: RunProgress,
  deliveryStatus: DeliveryStatusRecord[] = [],
): RunDetail {
  const notice = toNoticeView(run, deliveryStatus);
  return {
    ...toRunSummary(run),
    options: run.options,
    optionsSource: run.optionsSource,
    notes: run.notes,
    ...(run.retryOf ? { retryOf: run.retryOf } : {}),
    ...(run.noticeSentAt ? { notifiedAt: run.noticeSentAt } : {}),
    ...(notice ? { notice } : {}),
    steps: run.steps ?? {},
    ...(progress ? { progress } : {}),
    ...(run.metrics ? { metrics: run.metrics } : {}),
    ...(run.gate ? { gate: run.gate } : {}),
    ...(run.model ? { model: run.model } : {}),
    ...(run.cost ? { cost: run.cost } : {}),
    ...(run.failure ? { failure: run.failure } : {}),
    ...(run.search ? { search: run.search } : {}),
    ...(run.lineage ? { lineage: run.lineage } : {}),
    ...(run.code ? { code: run.code } : {}),
    links,
  };
}
