/**
 * POST /runs: a training run on an object already under inbox/, with options from the body.
 * 202 with the run's id; an Idempotency-Key makes the same request name the same run.
 */
import { readEnvironment } from "../../aws/config.js";
import { type Root, root } from "../../aws/root.js";
import { type LaunchSettings, launchTrainingRun } from "../../aws/run-launcher.js";
import { ROUTES } from "../../core/api.js";
import {
  apiRunId,
  checkTrainable,
  newTrainingRun,
  objectKey,
  requestHash,
  sameRequest,
} from "../../core/api-runs.js";
import { INBOX_PREFIX } from "../../core/drops.js";
import { NotFound } from "../../core/errors.js";
import { parseRunOptions } from "../../core/options.js";
import { runPath } from "../../core/run-view.js";
import { isTerminal } from "../../core/runs.js";
import { apiRoute } from "./http.js";
import { launchSettings } from "./settings.js";

export interface Deps {
  root: Pick<Root, "runs" | "objects" | "pipeline">;
  bucket: () => string;
  settings: () => LaunchSettings;
  now: () => Date;
}

export function makeHandler(deps: Deps) {
  return apiRoute(ROUTES.startRun, async ({ body, headers }) => {
    const bucket = deps.bucket();
    const key = objectKey(body.input, bucket, INBOX_PREFIX);
    // The body's schema is the options' shape; these are the rules beyond it (size, unsupported).
    const options = parseRunOptions(body.options ?? {});
    const head = await deps.root.objects().head(bucket, key, body.versionId);
    if (!head)
      throw new NotFound(
        "object",
        `s3://${bucket}/${key}${body.versionId ? ` version ${body.versionId}` : ""} does not exist`,
      );
    checkTrainable(key, head.size);
    const idempotencyKey = headers["idempotency-key"];
    const hash = idempotencyKey === undefined ? undefined : requestHash(body);
    const runs = deps.root.runs();
    const id = apiRunId("runs", idempotencyKey, deps.now());
    const fresh = newTrainingRun({
      id,
      bucket,
      key,
      versionId: head.versionId ?? "null",
      options,
      now: deps.now(),
      ...(hash ? { requestHash: hash } : {}),
    });
    const run = (await runs.create(fresh)) ? fresh : sameRequest(await runs.require(id), hash);
    if (!isTerminal(run.status))
      await launchTrainingRun(runs, deps.root.pipeline(), run, deps.settings());
    return { status: 202, body: { id, status: run.status, url: runPath(id) } };
  });
}

export const handler = makeHandler({
  root,
  bucket: () => readEnvironment(["DATA_BUCKET"]).DATA_BUCKET,
  settings: launchSettings,
  now: () => new Date(),
});
