/**
 * Writes the run's self-contained HTML report next to its outputs and records where it is.
 * Reads what the jobs left (profile.json, evaluation.json, the plots, history.json inside the
 * model archive); each is optional, since a run that failed early has only some of them.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { StepSummaries } from "../../core/pipeline-state.js";
import { MODEL_ARCHIVE_LIMIT_BYTES, renderReport, reportInputs } from "../../core/report.js";
import { parseS3Uri } from "../../core/s3-uri.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { root: Pick<Root, "runs" | "objects"> }) {
  return async (event: unknown): Promise<{ report: string }> => {
    const state = pipelineState(Payload.parse(event).state);
    const objects = deps.root.objects();
    const run = await deps.root.runs().require(state.runId);
    const prefix = `runs/${state.runId}`;
    const [profile, evaluation, plotKeys] = await Promise.all([
      objects.getText(state.bucket, `${prefix}/processed/profile.json`),
      objects.getText(state.bucket, state.paths.evaluationKey),
      objects.listKeys(state.bucket, `${prefix}/evaluation/plots/`),
    ]);
    const plots: Record<string, Buffer> = {};
    for (const key of plotKeys.filter((k) => k.endsWith(".png"))) {
      const png = await objects.getBuffer(state.bucket, key);
      if (png) plots[key.split("/").pop() ?? key] = png;
    }

    // history.json travels inside model.tar.gz; a huge archive is not unpacked for it.
    const problems: string[] = [];
    const modelUri = StepSummaries.safeParse(state.steps ?? {}).data?.train?.model;
    let modelArchive: Buffer | undefined;
    if (modelUri?.startsWith("s3://")) {
      const { bucket, key } = parseS3Uri(modelUri);
      const head = await objects.head(bucket, key);
      if (head && head.size > MODEL_ARCHIVE_LIMIT_BYTES)
        problems.push(
          `The training history was not read: the model archive is ${Math.round(head.size / 2 ** 20)} MiB.`,
        );
      else if (head) modelArchive = await objects.getBuffer(bucket, key);
    }

    const report = `s3://${state.bucket}/${state.paths.reportKey}`;
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
    await objects.putText(state.bucket, state.paths.reportKey, html, "text/html; charset=utf-8");
    await deps.root.runs().update(state.runId, { report }, "exists");
    return { report };
  };
}

export const handler = makeHandler({ root });
