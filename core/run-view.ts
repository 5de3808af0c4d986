/**
 * What the API shows of a run: a summary for listings and the whole record for one run, with
 * links to its outputs. Pure shaping; the handler fetches links and progress.
 */
import type { RunDetail, RunSummary } from "./api.js";
import type { Run } from "./run-record.js";

export function runPath(id: string): string {
  return `/runs/${encodeURIComponent(id)}`;
}

export function toRunSummary(run: Run): RunSummary {
  const version = run.model?.version;
  const modelName = run.model?.name ?? run.modelName;
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
    url: runPath(run.id),
  };
}

export type RunLinks = RunDetail["links"];
export type RunProgress = NonNullable<RunDetail["progress"]>;

/** Output locations of a run (S3 URIs), for the handler to presign. */
export function outputLocations(run: Run): Partial<Record<keyof RunLinks, string>> {
  const root = `s3://${run.dataset.bucket}/runs/${run.id}`;
  return {
    ...(run.model?.artifact && run.kind === "train" ? { model: run.model.artifact } : {}),
    ...(run.metrics ? { evaluation: `${root}/evaluation/evaluation.json` } : {}),
    ...(run.predictions ? { predictions: run.predictions } : {}),
    ...(run.report ? { report: run.report } : {}),
  };
}

export function toRunDetail(run: Run, links: RunLinks, progress?: RunProgress): RunDetail {
  return {
    ...toRunSummary(run),
    options: run.options,
    optionsSource: run.optionsSource,
    notes: run.notes,
    ...(run.retryOf ? { retryOf: run.retryOf } : {}),
    ...(run.noticeSentAt ? { notifiedAt: run.noticeSentAt } : {}),
    steps: run.steps ?? {},
    ...(progress ? { progress } : {}),
    ...(run.metrics ? { metrics: run.metrics } : {}),
    ...(run.gate ? { gate: run.gate } : {}),
    ...(run.model ? { model: run.model } : {}),
    ...(run.cost ? { cost: run.cost } : {}),
    ...(run.failure ? { failure: run.failure } : {}),
    ...(run.lineage ? { lineage: run.lineage } : {}),
    links,
  };
}
