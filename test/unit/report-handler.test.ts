import { describe, expect, it } from "vitest";
import type { TrainingState } from "../../core/pipeline-state.js";
import type { Run } from "../../core/run-record.js";
import { makeHandler } from "../../handlers/pipeline/build-report.js";
import { invoke } from "./events.js";
import { FakeObjects, FakeRuns, trainingStateOf } from "./fakes.js";
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

/** The data bucket, holding text and binary objects (plots and the model archive are not text). */
class Bucket extends FakeObjects {
  add(key: string, body: string | Buffer): void {
    this.put(BUCKET, key, body);
  }
}

function stateOf(run: Run, trained: boolean): TrainingState {
  const input = trainingStateOf(run);
  const t = Date.parse(run.createdAt);
  return {
    ...input,
    steps: trained
      ? {
          train: input.training.candidates.map((candidate) => ({
            job: candidate.job.name,
            start: t,
            end: t + 60_000,
            billable: 55,
          })),
          select: { job: `md-${run.id}-select`, start: t + 60_000, end: t + 70_000 },
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
    bucket.add(`${prefix}/processed/profile.json`, JSON.stringify(profile()));
    bucket.add(state.paths.evaluationKey, JSON.stringify(evaluation()));
    bucket.add(`${prefix}/evaluation/plots/roc.png`, TINY_PNG);
    bucket.add(`${prefix}/evaluation/plots/training_curve.png`, TINY_PNG);
    bucket.add(
      `${prefix}/model/model.tar.gz`,
      modelArchive({ "model.joblib": "m", "history.json": JSON.stringify(history()) }),
    );
    const runs = new FakeRuns([run]);
    const handler = makeHandler({ ports: { runs, objects: bucket } });

    const result = await invoke(handler, { state });

    const html = (await bucket.getText(BUCKET, state.paths.reportKey)) ?? "";
    expect(result.report).toBe(`s3://${BUCKET}/${state.paths.reportKey}`);
    expect(bucket.contentTypeOf(BUCKET, state.paths.reportKey)).toBe("text/html; charset=utf-8");
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
    const handler = makeHandler({ ports: { runs, objects: bucket } });

    await invoke(handler, { state });

    const html = (await bucket.getText(BUCKET, state.paths.reportKey)) ?? "";
    expect(sectionText(html, "failure")).toContain("has a single column");
    expect(sectionText(html, "metrics")).toContain("No metrics: the run failed at preprocess");
  });
});
