/**
 * Writing a run's self-contained HTML report next to its outputs and recording where it is.
 * Reads what the jobs left (profile.json, evaluation.json, the plots, history.json inside the
 * model archive); each is optional, since a run that failed early, was stopped or died with a
 * restart has only some of them.
 */
import { MODEL_ARCHIVE_LIMIT_BYTES, renderReport, reportInputs } from "../core/report/index.js";
import { parseS3Uri } from "../core/s3-uri.js";
import type { Ports } from "./ports.js";

export interface ReportSource {
  runId: string;
  bucket: string;
  reportKey: string;
  evaluationKey?: string | undefined;
  /** The trained model archive (`s3://…/model.tar.gz`), when training got that far. */
  modelUri?: string | undefined;
}

export async function writeRunReport(
  ports: Pick<Ports, "runs" | "objects">,
  source: ReportSource,
): Promise<string> {
  const { runs, objects } = ports;
  const run = await runs.require(source.runId);
  const prefix = `runs/${source.runId}`;
  const [profile, evaluation, plotKeys] = await Promise.all([
    objects.getText(source.bucket, `${prefix}/processed/profile.json`),
    source.evaluationKey ? objects.getText(source.bucket, source.evaluationKey) : undefined,
    objects.listKeys(source.bucket, `${prefix}/evaluation/plots/`),
  ]);
  const plots: Record<string, Buffer> = {};
  for (const key of plotKeys.filter((k) => k.endsWith(".png"))) {
    const png = await objects.getBuffer(source.bucket, key);
    if (png) plots[key.split("/").pop() ?? key] = png;
  }

  // history.json travels inside model.tar.gz; a huge archive is not unpacked for it.
  const problems: string[] = [];
  let modelArchive: Buffer | undefined;
  if (source.modelUri?.startsWith("s3://")) {
    const { bucket, key } = parseS3Uri(source.modelUri);
    const head = await objects.head(bucket, key);
    if (head && head.size > MODEL_ARCHIVE_LIMIT_BYTES)
      problems.push(
        `The training history was not read: the model archive is ${Math.round(head.size / 2 ** 20)} MiB.`,
      );
    else if (head) modelArchive = await objects.getBuffer(bucket, key);
  }

  const report = `s3://${source.bucket}/${source.reportKey}`;
  const html = renderReport(
    reportInputs(
      { ...run, report },
      {
        ...(profile === undefined ? {} : { profile }),
        ...(evaluation === undefined ? {} : { evaluation }),
        ...(modelArchive ? { modelArchive } : {}),
        plots,
        problems,
      },
    ),
  );
  await objects.putObject(source.bucket, source.reportKey, html, "text/html; charset=utf-8");
  await runs.update(source.runId, { report }, "exists");
  return report;
}
