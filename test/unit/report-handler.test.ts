import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { type ObjectHead, Objects } from "../../aws/objects.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import type { PipelineState } from "../../core/pipeline-state.js";
import type { Run } from "../../core/run-record.js";
import { makeHandler } from "../../handlers/pipeline/build-report.js";
import { FakeRuns } from "./fakes.js";
import {
  evaluation,
  failedAtPreprocess,
  history,
  modelArchive,
  profile,
  sectionText,
  succeededRun,
  TINY_PNG,
} from "./report-fixtures.js";

const BUCKET = "modeldrop-data";

/** A bucket of binary objects (plots and the model archive are not text). */
class Bucket extends Objects {
  readonly objects = new Map<string, { body: Buffer; contentType?: string }>();

  constructor() {
    super(new S3Client({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }));
  }

  put(key: string, body: string | Buffer): void {
    this.objects.set(key, { body: Buffer.from(body) });
  }

  override async head(_bucket: string, key: string): Promise<ObjectHead | undefined> {
    const found = this.objects.get(key);
    return found
      ? { size: found.body.length, lastModified: undefined, metadata: {}, versionId: undefined }
      : undefined;
  }

  override async getBuffer(_bucket: string, key: string): Promise<Buffer | undefined> {
    return this.objects.get(key)?.body;
  }

  override async getText(bucket: string, key: string): Promise<string | undefined> {
    return (await this.getBuffer(bucket, key))?.toString("utf8");
  }

  override async putText(
    _bucket: string,
    key: string,
    body: string,
    contentType: string,
  ): Promise<void> {
    this.objects.set(key, { body: Buffer.from(body), contentType });
  }

  override async listKeys(_bucket: string, prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}

function stateOf(run: Run, trained: boolean): PipelineState {
  const input = pipelineInput({
    runId: run.id,
    bucket: BUCKET,
    region: "us-east-1",
    source: { key: run.dataset.key, versionId: run.dataset.versionId },
    kind: "table",
    options: run.options,
    codeSha256: "c0de".repeat(16),
  });
  const t = Date.parse(run.createdAt);
  return {
    ...input,
    steps: trained
      ? {
          train: {
            job: input.jobs.train.name,
            start: t,
            end: t + 60_000,
            billable: 55,
            model: `${input.paths.jobs}/${input.jobs.train.name}/output/model.tar.gz`,
          },
        }
      : {},
  };
}

describe("build-report", () => {
  it("writes the page from profile, evaluation, plots and the model's history", async () => {
    const run = succeededRun();
    const state = stateOf(run, true);
    const bucket = new Bucket();
    const prefix = `runs/${run.id}`;
    bucket.put(`${prefix}/processed/profile.json`, JSON.stringify(profile()));
    bucket.put(state.paths.evaluationKey, JSON.stringify(evaluation()));
    bucket.put(`${prefix}/evaluation/plots/roc.png`, TINY_PNG);
    bucket.put(`${prefix}/evaluation/plots/training_curve.png`, TINY_PNG);
    bucket.put(
      `${prefix}/jobs/${state.jobs.train.name}/output/model.tar.gz`,
      modelArchive({ "model.joblib": "m", "history.json": JSON.stringify(history()) }),
    );
    const runs = new FakeRuns([run]);
    const handler = makeHandler({ root: { runs: () => runs, objects: () => bucket } });

    const result = await handler({ state });

    const written = bucket.objects.get(state.paths.reportKey);
    const html = written?.body.toString("utf8") ?? "";
    expect(result.report).toBe(`s3://${BUCKET}/${state.paths.reportKey}`);
    expect(written?.contentType).toBe("text/html; charset=utf-8");
    expect(sectionText(html, "metrics")).toMatch(/roc_auc gate 0\.9123 ± 0\.0187/);
    expect(sectionText(html, "training")).toContain("3 boosting rounds");
    expect(html.match(/<img /g)).toHaveLength(2);
    expect(sectionText(html, "lineage")).toContain(result.report);
    expect((await runs.require(run.id)).report).toBe(result.report);
  });

  it("writes a page for a run that failed before any job output existed", async () => {
    const run = failedAtPreprocess();
    const state = stateOf(run, false);
    const bucket = new Bucket();
    const runs = new FakeRuns([run]);
    const handler = makeHandler({ root: { runs: () => runs, objects: () => bucket } });

    await handler({ state });

    const html = bucket.objects.get(state.paths.reportKey)?.body.toString("utf8") ?? "";
    expect(sectionText(html, "failure")).toContain("has a single column");
    expect(sectionText(html, "metrics")).toContain("No metrics: the run failed at preprocess");
  });
});
