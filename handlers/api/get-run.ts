/**
 * GET /runs/{id}: the whole run record, the running job's latest progress line, presigned
 * links to the model, evaluation, predictions and report once they exist, and the notice's
 * delivery attempts (the Slack notifier's, and SNS's delivery-status log for its message).
 */
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { JOB_LOG_GROUPS } from "../../core/pipeline-state.js";
import { latestProgress } from "../../core/progress.js";
import type { Run } from "../../core/run-record.js";
import { outputLocations, type RunLinks, toRunDetail } from "../../core/run-view.js";
import { jobName } from "../../core/runs.js";
import { parseS3Uri } from "../../core/s3-uri.js";
import { apiRoute } from "./http.js";

export interface Deps {
  root: Pick<Root, "runs" | "objects" | "jobLogs" | "deliveryStatus">;
}

async function links(deps: Deps, run: Run): Promise<RunLinks> {
  const objects = deps.root.objects();
  const found: RunLinks = {};
  for (const [name, uri] of Object.entries(outputLocations(run)) as [keyof RunLinks, string][]) {
    const { bucket, key } = parseS3Uri(uri);
    // A prefix (the predictions folder) has no single URL; an object is linked once it exists.
    const url =
      !key.endsWith("/") && (await objects.head(bucket, key))
        ? await objects.presignGet(bucket, key)
        : undefined;
    found[name] = { uri, ...(url ? { url } : {}) };
  }
  return found;
}

async function progress(deps: Deps, run: Run) {
  if (run.status !== "RUNNING" || !run.step || !(run.step in JOB_LOG_GROUPS)) return undefined;
  const step = run.step as keyof typeof JOB_LOG_GROUPS;
  const logs = deps.root.jobLogs();
  const group = JOB_LOG_GROUPS[step];
  const stream = await logs.stream(group, jobName(run.id, step));
  if (!stream) return undefined;
  return latestProgress((await logs.read(group, stream, 100, "tail")).events);
}

async function deliveryStatus(deps: Deps, run: Run) {
  if (!run.notice) return [];
  return deps.root.deliveryStatus().forMessage(run.notice.messageId, run.notice.publishedAt);
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.getRun, async ({ params }) => {
    const run = await deps.root.runs().require(params.id);
    const [found, latest, deliveries] = await Promise.all([
      links(deps, run),
      progress(deps, run),
      deliveryStatus(deps, run),
    ]);
    return { status: 200, body: toRunDetail(run, found, latest, deliveries) };
  });
}

export const handler = makeHandler({ root });
