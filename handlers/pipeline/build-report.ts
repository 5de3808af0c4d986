/** Writes the run's self-contained HTML report next to its outputs and records where it is. */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { renderReport } from "../../core/report.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { root: Pick<Root, "runs" | "objects"> }) {
  return async (event: unknown): Promise<{ report: string }> => {
    const state = pipelineState(Payload.parse(event).state);
    const objects = deps.root.objects();
    const run = await deps.root.runs().require(state.runId);
    const prefix = `runs/${state.runId}`;
    const profileText = await objects.getText(state.bucket, `${prefix}/processed/profile.json`);
    const plots: Record<string, Buffer> = {};
    for (const key of await objects.listKeys(state.bucket, `${prefix}/evaluation/plots/`)) {
      const png = key.endsWith(".png") ? await objects.getBuffer(state.bucket, key) : undefined;
      if (png) plots[key.split("/").pop() ?? key] = png;
    }
    const report = `s3://${state.bucket}/${state.paths.reportKey}`;
    const html = renderReport({
      run: { ...run, report },
      ...(profileText ? { profile: JSON.parse(profileText) as Record<string, unknown> } : {}),
      plots,
    });
    await objects.putText(state.bucket, state.paths.reportKey, html, "text/html; charset=utf-8");
    await deps.root.runs().update(state.runId, { report }, "exists");
    return { report };
  };
}

export const handler = makeHandler({ root });
