/**
 * The application's workflows (app/) over in-memory ports: what a user sees recorded on the run
 * and the registry after each, and that a retry of the same step changes nothing.
 */
import { describe, expect, it } from "vitest";
import { recordExecutionEnd } from "../../app/execution-end.js";
import { decideVersion } from "../../app/models.js";
import { registerModel } from "../../app/pipeline-tasks.js";
import { cancelRun, runDetail, runLogs } from "../../app/runs.js";
import { listInbox } from "../../app/uploads.js";
import type { ModelVersion } from "../../core/registry.js";
import type { Run } from "../../core/run-record.js";
import { jobName } from "../../core/runs.js";
import {
  aRun,
  executionArn,
  FakeJobLogs,
  FakeLog,
  FakeModelEvents,
  FakeModels,
  FakeNotices,
  FakeObjects,
  FakePipeline,
  FakeRuns,
  trainingStateOf,
} from "./fakes.js";
import { profile } from "./report-fixtures.js";

const BUCKET = "modeldrop-data";
const NOW = new Date("2026-11-02T10:30:00Z");

function world(runs: Run[] = [], versions: ModelVersion[] = []) {
  return {
    runs: new FakeRuns(runs),
    models: new FakeModels(versions),
    modelEvents: new FakeModelEvents(),
    objects: new FakeObjects(),
    pipeline: new FakePipeline(),
    notices: new FakeNotices(),
    jobLogs: new FakeJobLogs(),
    log: new FakeLog(),
    now: () => NOW,
  };
}

const ARTIFACT = "s3://modeldrop-data/runs/r/jobs/md-r-train/output/model.tar.gz";

describe("registering the trained model", () => {
  it("makes version 1, Approved by the gate, and a retried task finds it instead of making another", async () => {
    const run = aRun({ status: "RUNNING", metrics: { roc_auc: 0.93 } });
    const ports = world([run]);
    const state = trainingStateOf(run);

    const first = await registerModel(ports, state, ARTIFACT);
    const again = await registerModel(ports, state, ARTIFACT);

    expect(first).toEqual({ name: state.model.name, version: 1, approval: "Approved" });
    expect(again).toEqual(first);
    // Announced each time (a retry may follow a failed announcement): deploy-on-approval takes repeats.
    expect(ports.modelEvents.approved).toEqual([
      { modelName: state.model.name, version: 1, approvedBy: "quality-gate", runId: run.id },
      { modelName: state.model.name, version: 1, approvedBy: "quality-gate", runId: run.id },
    ]);
    expect(await ports.models.versions(state.model.name)).toEqual([
      expect.objectContaining({
        version: 1,
        decidedBy: "quality-gate",
        metrics: { roc_auc: 0.93 },
      }),
    ]);
  });

  it("registers the version and notes on the run how to serve it when its approval cannot be announced", async () => {
    const run = aRun({ status: "RUNNING", metrics: { roc_auc: 0.93 } });
    const ports = world([run]);
    ports.modelEvents.versionApproved = async () => {
      throw new Error("EventBridge is unreachable");
    };
    const state = trainingStateOf(run);

    const registered = await registerModel(ports, state, ARTIFACT);

    expect(registered).toMatchObject({ version: 1, approval: "Approved" });
    expect((await ports.runs.require(run.id)).notes.at(-1)).toBe(
      `Version 1 was approved, but its approval could not be announced (EventBridge is unreachable), so deploy-on-approval did not see it; serve it with: npx modeldrop endpoint create ${state.model.name} --version 1`,
    );
    expect(ports.log.lines).toEqual([
      expect.objectContaining({
        level: "error",
        message: "the gate's approval could not be announced",
      }),
    ]);
  });

  it("keeps a version whose columns differ from the newest Pending, and says why on the run", async () => {
    const run = aRun({ status: "RUNNING" });
    const state = trainingStateOf(run);
    const previous: ModelVersion = {
      modelName: state.model.name,
      version: 1,
      artifact: ARTIFACT,
      sageMakerModel: "md-previous",
      runId: "earlier-run",
      metrics: {},
      approval: "Approved",
      createdAt: "2026-11-01T10:00:00Z",
      schema: {
        task: "binary",
        target: "churned",
        features: [{ name: "tenure", kind: "numeric" }],
      },
    };
    const ports = world([run], [previous]);
    ports.objects.put(BUCKET, `runs/${run.id}/processed/profile.json`, JSON.stringify(profile()));

    const registered = await registerModel(ports, state, ARTIFACT);

    expect(registered).toMatchObject({ version: 2, approval: "Pending" });
    const notes = (await ports.runs.require(run.id)).notes;
    expect(notes.at(-1)).toMatch(/^Version 2 its schema differs from .* version 1/);
  });
});

describe("an execution that ended without recording it", () => {
  it("records a user's stop as STOPPED with one notice, however often the event comes", async () => {
    const run = aRun({ status: "RUNNING", step: "train", executionArn: executionArn("r") });
    const ports = world([run]);
    const input = JSON.stringify(trainingStateOf(run));
    const change = { name: run.id, status: "ABORTED", input };

    const first = await recordExecutionEnd(ports, change);
    const second = await recordExecutionEnd(ports, change);

    expect(first).toMatchObject({ outcome: "recorded", status: "STOPPED", notice: "sent" });
    expect(second).toMatchObject({
      outcome: "recorded",
      status: "STOPPED",
      notice: "already-sent",
    });
    expect(ports.notices.published).toHaveLength(1);
    expect((await ports.runs.require(run.id)).report).toMatch(/\/report\/index\.html$/);
  });

  it("records a timeout as FAILED at the step it was in, with the job's log", async () => {
    const run = aRun({ status: "RUNNING", step: "train" });
    const ports = world([run]);
    const input = JSON.stringify(trainingStateOf(run));

    await recordExecutionEnd(ports, { name: run.id, status: "TIMED_OUT", input });

    expect((await ports.runs.require(run.id)).failure).toEqual({
      step: "train",
      error: "States.Timeout",
      reason: "the execution ran past its time limit",
      log: { group: "/aws/sagemaker/TrainingJobs", streamPrefix: `${jobName(run.id, "train")}/` },
    });
  });

  it("leaves executions that are not modeldrop runs alone", async () => {
    const ports = world();

    expect(await recordExecutionEnd(ports, { name: "someone-else", status: "FAILED" })).toEqual({
      runId: "someone-else",
      outcome: "not-a-run",
    });
    expect(ports.notices.published).toEqual([]);
  });
});

describe("cancelling a run", () => {
  it("stops a running execution and leaves the status to the execution's end", async () => {
    const run = aRun({ status: "RUNNING", executionArn: executionArn("churn") });
    const ports = world([run]);

    const after = await cancelRun(ports, run.id, "api-token");

    expect(ports.pipeline.stops).toEqual([
      { executionArn: executionArn("churn"), cause: "cancelled through the API by api-token" },
    ]);
    expect(after.status).toBe("RUNNING");
  });

  it("records a run that never started STOPPED at once, with its notice", async () => {
    const ports = world([aRun({ status: "QUEUED" })]);

    const after = await cancelRun(ports, aRun().id, "api-token");

    expect(after.status).toBe("STOPPED");
    expect(ports.notices.published).toHaveLength(1);
  });

  it("refuses a run that already ended", async () => {
    const ports = world([aRun({ status: "SUCCEEDED" })]);

    await expect(cancelRun(ports, aRun().id, "api-token")).rejects.toMatchObject({
      status: 409,
      code: "run-ended",
    });
  });
});

describe("a run's log", () => {
  it("is the failed step's job log by default", async () => {
    const run = aRun({
      status: "FAILED",
      failure: { step: "evaluate", error: "AlgorithmError", reason: "boom" },
    });

    const page = await runLogs(world([run]), run.id, { limit: 10 });

    expect(page).toMatchObject({ step: "evaluate", logGroup: "/aws/sagemaker/ProcessingJobs" });
  });

  it("follows the job's log from a cursor without repeating a line", async () => {
    const run = aRun({ status: "RUNNING", step: "train" });
    const ports = world([run]);
    const job = jobName(run.id, "train");
    ports.jobLogs.write("/aws/sagemaker/TrainingJobs", job, "epoch 1", "epoch 2");
    const first = await runLogs(ports, run.id, { limit: 10 });
    ports.jobLogs.write("/aws/sagemaker/TrainingJobs", job, "epoch 3");

    const second = await runLogs(ports, run.id, { limit: 10, cursor: first.next });

    expect(first.events.map((e) => e.message)).toEqual(["epoch 1", "epoch 2"]);
    expect(second.events.map((e) => e.message)).toEqual(["epoch 3"]);
  });

  it("refuses a cursor of another step's log, naming the cursor", async () => {
    const run = aRun({ status: "RUNNING", step: "train" });
    const ports = world([run]);
    const { next } = await runLogs(ports, run.id, { limit: 10 });

    await expect(
      runLogs(ports, run.id, { step: "evaluate", limit: 10, cursor: next }),
    ).rejects.toMatchObject({
      status: 400,
      field: "cursor",
    });
  });
});

describe("a run's whole record", () => {
  const detail = (ports: ReturnType<typeof world>, id: string) =>
    runDetail({ ...ports, deliveryStatus: { forMessage: async () => [] } }, id);

  it("links each evaluation plot once the run has metrics, presigned", async () => {
    const run = aRun({ status: "SUCCEEDED", metrics: { roc_auc: 0.9 } });
    const ports = world([run]);
    const plots = `runs/${run.id}/evaluation/plots`;
    ports.objects.put(BUCKET, `${plots}/roc_curve.png`, "png");
    ports.objects.put(BUCKET, `${plots}/confusion_matrix.png`, "png");
    ports.objects.put(BUCKET, `runs/${run.id}/evaluation/evaluation.json`, "{}");

    const { links } = await detail(ports, run.id);

    expect(links.plots).toEqual([
      {
        name: "confusion_matrix.png",
        uri: `s3://${BUCKET}/${plots}/confusion_matrix.png`,
        url: await ports.objects.presignGet(BUCKET, `${plots}/confusion_matrix.png`),
      },
      expect.objectContaining({ name: "roc_curve.png", url: expect.stringContaining("signed") }),
    ]);
  });

  it("links each file of a prediction run's output folder, which has no URL of its own", async () => {
    const folder = `runs/01PREDICT/predictions/`;
    const run = aRun({
      id: "01PREDICT",
      kind: "predict",
      status: "SUCCEEDED",
      predictions: `s3://${BUCKET}/${folder}`,
    });
    const ports = world([run]);
    ports.objects.put(BUCKET, `${folder}customers.csv.out`, '{"prediction": "yes"}\n');

    const { links } = await detail(ports, run.id);

    expect(links.predictions).toEqual({
      uri: `s3://${BUCKET}/${folder}`,
      files: [
        {
          name: "customers.csv.out",
          uri: `s3://${BUCKET}/${folder}customers.csv.out`,
          url: await ports.objects.presignGet(BUCKET, `${folder}customers.csv.out`),
        },
      ],
    });
  });

  it("has no plots before the run was evaluated", async () => {
    const run = aRun({ status: "RUNNING", step: "train" });

    const { links } = await detail(world([run]), run.id);

    expect(links).not.toHaveProperty("plots");
  });
});

describe("the inbox listing", () => {
  function inbox(...keys: string[]) {
    const ports = world();
    for (const key of keys)
      ports.objects.put(BUCKET, key, key.endsWith("empty.csv") ? "" : "a,b\n1,2\n");
    return ports;
  }

  it("lists the datasets in key order, without sidecars, folder markers or empty objects", async () => {
    const ports = inbox(
      "inbox/churn.csv",
      "inbox/churn.csv.modeldrop.json",
      "inbox/images/",
      "inbox/images/cats.zip",
      "inbox/empty.csv",
      "inputs/to-score.csv",
    );

    const page = await listInbox(ports, { limit: 20 }, BUCKET);

    expect(page.objects.map((o) => o.key)).toEqual(["inbox/churn.csv", "inbox/images/cats.zip"]);
    expect(page.objects[1]).toEqual({
      key: "inbox/images/cats.zip",
      name: "cats.zip",
      size: 8,
      lastModified: "2026-11-02T09:00:00.000Z",
    });
    expect(page.next).toBeUndefined();
  });

  it("pages with a base64url cursor, and narrows to a prefix inside inbox/", async () => {
    const ports = inbox("inbox/a.csv", "inbox/b.csv", "inbox/c.csv", "inbox/q1/sales.csv");

    const first = await listInbox(ports, { limit: 2 }, BUCKET);
    const second = await listInbox(ports, { limit: 2, cursor: first.next }, BUCKET);
    const narrowed = await listInbox(ports, { limit: 20, prefix: "q1/" }, BUCKET);

    expect(first.next).toMatch(/^[A-Za-z0-9_-]+$/);
    expect([...first.objects, ...second.objects].map((o) => o.name)).toEqual([
      "a.csv",
      "b.csv",
      "c.csv",
      "sales.csv",
    ]);
    expect(second.next).toBeUndefined();
    expect(narrowed.objects.map((o) => o.key)).toEqual(["inbox/q1/sales.csv"]);
  });
});

describe("deciding a version", () => {
  const pending: ModelVersion = {
    modelName: "churn",
    version: 3,
    artifact: ARTIFACT,
    sageMakerModel: "md-churn-3",
    runId: "r3",
    metrics: { roc_auc: 0.9 },
    approval: "Pending",
    createdAt: "2026-11-02T09:00:00Z",
  };

  it("records who approved it, when and why", async () => {
    const ports = world([], [pending]);

    const decided = await decideVersion(ports, {
      name: "churn",
      version: 3,
      decision: "approve",
      by: "ana",
      reason: "checked the confusion matrix",
    });

    expect(decided).toMatchObject({
      approval: "Approved",
      decidedBy: "ana",
      decidedAt: NOW.toISOString(),
      reason: "checked the confusion matrix",
    });
    expect((await ports.models.newest("churn"))?.approval).toBe("Approved");
    expect(ports.modelEvents.approved).toEqual([
      { modelName: "churn", version: 3, approvedBy: "ana", runId: "r3" },
    ]);
  });

  it("announces an approval but not a rejection, and keeps the approval when the announcement fails", async () => {
    const ports = world([], [pending, { ...pending, version: 4 }]);
    ports.modelEvents.versionApproved = async () => {
      throw new Error("EventBridge is unreachable");
    };

    const approved = await decideVersion(ports, {
      name: "churn",
      version: 3,
      decision: "approve",
      by: "ana",
    });
    const rejected = await decideVersion(ports, {
      name: "churn",
      version: 4,
      decision: "reject",
      by: "ana",
    });

    expect(approved.approval).toBe("Approved");
    expect(rejected.approval).toBe("Rejected");
    expect(ports.log.lines).toEqual([
      expect.objectContaining({
        level: "error",
        message: "the approval could not be announced; deploy-on-approval will not see it",
      }),
    ]);
  });

  it("refuses to approve what is already Approved, and names a version that does not exist", async () => {
    const ports = world([], [{ ...pending, approval: "Approved" }]);
    const approve = (version: number) =>
      decideVersion(ports, { name: "churn", version, decision: "approve", by: "ana" });

    await expect(approve(3)).rejects.toMatchObject({ status: 409, code: "already-decided" });
    await expect(approve(4)).rejects.toMatchObject({
      status: 404,
      message: "model churn has no version 4",
    });
  });
});
