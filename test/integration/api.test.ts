// The REST API on the local cloud: the packaged stack's HTTP API, its authorizer and every
// route's real handler, against real runs (real state machines and ML jobs).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, ListRulesCommand } from "@aws-sdk/client-eventbridge";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { z } from "zod";
import { EndpointsStore } from "../../aws/endpoints-store.js";
import { RunsStore } from "../../aws/runs-store.js";
import {
  DeployOnApprovalView,
  EndpointPage,
  EndpointView,
  InboxPage,
  Invocation,
  LogPage,
  ModelDetail,
  ModelPage,
  ModelVersionView,
  Problem,
  RunDetail,
  RunPage,
  Upload,
} from "../../core/api.js";
import { queuedTrainingRun } from "../../core/drops.js";
import type { Run } from "../../core/run-record.js";
import type { RunStatus } from "../../core/runs.js";
import type { LocalCloud } from "../../local/cloud.js";
import { churnCsv } from "./datasets.js";
import { type ClientConfig, startPipelineCloud } from "./pipeline-stack.js";

let cloud: LocalCloud;
let s3: S3Client;
let bucket: string;
let token: string;
let config: ClientConfig;
let cleanup: () => Promise<void>;

interface Answer {
  status: number;
  type: string | null;
  etag: string | null;
  cacheControl: string | null;
  body: unknown;
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${cloud.apiEndpoint}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    etag: response.headers.get("etag"),
    cacheControl: response.headers.get("cache-control"),
    body: text ? JSON.parse(text) : undefined,
  };
}

/** The answer's body, checked against the route's response schema. */
function as<T extends z.ZodType>(schema: T, answer: Answer): z.output<T> {
  return schema.parse(answer.body);
}

function problem(answer: Answer) {
  expect(answer.type).toBe("application/problem+json");
  return Problem.parse(answer.body);
}

async function put(key: string, body: string) {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return put.VersionId ?? "null";
}

/** The run once it ended and its notice went out (its report and links are final then). */
async function ended(id: string, timeoutMs = 300_000): Promise<z.output<typeof RunDetail>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await api("GET", `/runs/${id}`);
    const run = as(RunDetail, answer);
    if (run.notifiedAt) {
      await cloud.events.settle();
      // SNS answers Publish before it delivers: wait for the email to be in the outbox.
      await cloud.sns.settle();
      return as(RunDetail, await api("GET", `/runs/${id}`));
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The model's endpoint of this mode once it exists (deploy-on-approval makes one on the side) and
 * is no longer Creating, Updating or Deleting.
 */
async function settled(model: string, mode: string): Promise<z.output<typeof EndpointView>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const answer = await api("GET", `/models/${model}/endpoints/${mode}`);
    const endpoint = answer.status === 404 ? undefined : as(EndpointView, answer);
    if (endpoint && !["Creating", "Updating", "Deleting"].includes(endpoint.status)) {
      await cloud.events.settle();
      await cloud.sns.settle();
      return endpoint;
    }
    if (Date.now() > deadline)
      throw new Error(`endpoint did not settle: ${JSON.stringify(endpoint)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function invoke(model: string, body: string | Buffer, type: string, query = "") {
  const response = await fetch(`${cloud.apiEndpoint}/models/${model}/invoke${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    etag: null,
    cacheControl: null,
    body: text ? JSON.parse(text) : undefined,
  } satisfies Answer;
}

/** The subjects of the notices mailed so far (the local SNS writes each email to the outbox). */
function mailedSubjects(): string[] {
  const outbox = join(cloud.stateDir, "outbox");
  if (!existsSync(outbox)) return [];
  return readdirSync(outbox)
    .map((name) => readFileSync(join(outbox, name), "utf8"))
    .flatMap((mail) => mail.match(/^Subject: (.*)$/m)?.[1] ?? []);
}

beforeAll(async () => {
  const started = await startPipelineCloud({}, inject("packagedStack"));
  ({ cloud, s3, bucket, cleanup, token, config } = started);
}, 120_000);

afterAll(async () => {
  await cleanup();
});

describe("the REST API", { timeout: 480_000 }, () => {
  it("answers /health without a token and every other route only with the API token", async () => {
    const health = await fetch(`${cloud.apiEndpoint}/health`);
    const none = await fetch(`${cloud.apiEndpoint}/runs`);
    const wrong = await api("GET", "/runs", undefined, { authorization: `Bearer x${token}` });
    const malformed = await api("GET", "/runs", undefined, { authorization: token });

    expect([health.status, await health.json()]).toEqual([
      200,
      { status: "ok", service: "modeldrop" },
    ]);
    expect(none.status).toBe(401);
    expect(wrong.status).toBe(403);
    expect(malformed.status).toBe(403);
  });

  it("describes itself at /openapi.json, one path per route", async () => {
    const answer = await api("GET", "/openapi.json");

    expect(answer.status).toBe(200);
    const doc = answer.body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/runs",
        "/runs/{id}",
        "/runs/{id}/logs",
        "/uploads",
        "/predictions",
      ]),
    );
    expect(Object.keys(doc.paths["/runs"] ?? {})).toEqual(["post", "get"]);
  });

  it("refuses a bad start with a problem document naming the field", async () => {
    const missing = problem(await api("POST", "/runs", {}));
    const unknown = problem(await api("POST", "/runs", { input: "inbox/x.csv", colour: "red" }));
    const option = problem(
      await api("POST", "/runs", { input: "inbox/x.csv", options: { threshold: "high" } }),
    );
    const unsupported = problem(
      await api("POST", "/runs", { input: "inbox/x.csv", options: { notify: { slack: false } } }),
    );
    const outside = problem(await api("POST", "/runs", { input: "runs/x/input/a.csv" }));
    const notJson = await fetch(`${cloud.apiEndpoint}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{not json",
    });

    expect(missing).toMatchObject({ status: 400, code: "invalid-request", field: "input" });
    expect(unknown).toMatchObject({ status: 400, field: "colour" });
    expect(option).toMatchObject({ status: 400, field: "options.threshold" });
    expect(unsupported).toMatchObject({
      status: 400,
      code: "invalid-option",
      field: "options.notify",
    });
    expect(outside).toMatchObject({ status: 400, field: "input" });
    expect(outside.detail).toContain("inbox/");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: "invalid-json" });
  });

  it("answers 404 for a missing object, run or model and 413 for an oversized body", async () => {
    const object = problem(await api("POST", "/runs", { input: "inbox/nothing-here.csv" }));
    const run = problem(await api("GET", "/runs/01JD000000000000000000000X"));
    const model = problem(await api("GET", "/models/no-such-model"));
    const huge = problem(
      await api("POST", "/runs", {
        input: "inbox/a.csv",
        options: { ignoreColumns: ["x".repeat(70_000)] },
      }),
    );

    expect(object).toMatchObject({ status: 404, code: "object-not-found" });
    expect(run).toMatchObject({ status: 404, code: "run-not-found" });
    expect(model).toMatchObject({ status: 404, code: "model-not-found" });
    expect(huge).toMatchObject({ status: 413, code: "too-large" });
  });

  it("starts a run on an inbox object, idempotently with an Idempotency-Key, and shows its whole record", async () => {
    await put("inbox/api churn.csv", churnCsv(300));
    // The whole search (4 candidates, tuned, ensembled) on a short budget: this checks the API.
    const request = {
      input: "inbox/api churn.csv",
      options: { modelName: "api-run", timeBudgetSeconds: 40 },
    };

    const first = await api("POST", "/runs", request, { "idempotency-key": "churn-1" });
    const again = await api("POST", "/runs", request, { "idempotency-key": "churn-1" });
    const reused = await api(
      "POST",
      "/runs",
      { ...request, options: {} },
      { "idempotency-key": "churn-1" },
    );

    expect(first.status).toBe(202);
    const { id } = first.body as { id: string };
    expect(again).toMatchObject({ status: 202, body: { id } });
    expect(problem(reused)).toMatchObject({ status: 409, code: "idempotency-key-reused" });
    const run = await ended(id);
    expect(run).toMatchObject({
      status: "SUCCEEDED",
      kind: "train",
      modelName: "api-run",
      modelVersion: 1,
    });
    expect(Object.keys(run.steps)).toEqual(
      expect.arrayContaining(["preprocess", "train-xgboost", "select", "evaluate", "transform"]),
    );
    expect(run.search?.candidates).toHaveLength(4);
    expect(run.search?.why).toMatch(/roc_auc/);
    expect(run.metrics?.roc_auc).toBeGreaterThan(0.6);
    expect(run.cost?.totalUsd).toBeGreaterThan(0);
    const report = await fetch(run.links.report?.url ?? "");
    expect([report.status, (await report.text()).slice(0, 15).toLowerCase()]).toEqual([
      200,
      "<!doctype html>",
    ]);
    const evaluation = await fetch(run.links.evaluation?.url ?? "");
    expect(await evaluation.json()).toHaveProperty("binary_classification_metrics");
    expect(run.links.predictions?.uri).toBe(`s3://${bucket}/runs/${id}/predictions/`);
    expect(run.links.plots?.map((plot) => plot.name)).toEqual(
      expect.arrayContaining(["roc.png", "confusion_matrix.png"]),
    );
    const plot = await fetch(run.links.plots?.[0]?.url ?? "");
    expect(plot.status).toBe(200);
  });

  it("answers a GET again with 304 and no body while its If-None-Match ETag still holds", async () => {
    const id = as(RunPage, await api("GET", "/runs?model=api-run")).runs[0]?.id;
    const path = `/runs/${id}`;

    let first = await api("GET", path);
    let again = await api("GET", path, undefined, { "if-none-match": first.etag ?? "" });
    // Links are signed per 10-minute window: should one turn between the two reads, the next
    // two fall inside one.
    if (again.status === 200) {
      first = again;
      again = await api("GET", path, undefined, { "if-none-match": first.etag ?? "" });
    }
    const stale = await api("GET", path, undefined, { "if-none-match": '"stale"' });

    expect(first.status).toBe(200);
    expect(first.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(again).toMatchObject({
      status: 304,
      etag: first.etag,
      cacheControl: first.cacheControl,
      body: undefined,
    });
    expect(stale).toMatchObject({ status: 200, etag: first.etag });
  });

  it("tails a job's log and follows it with the cursor, without repeating lines", async () => {
    const id = as(RunPage, await api("GET", "/runs?model=api-run")).runs[0]?.id;

    const tail = as(LogPage, await api("GET", `/runs/${id}/logs?step=train-xgboost&limit=5`));
    const follow = as(LogPage, await api("GET", `/runs/${id}/logs?cursor=${tail.next}`));
    const bad = problem(await api("GET", `/runs/${id}/logs?cursor=nonsense`));

    expect(tail).toMatchObject({
      step: "train-xgboost",
      job: `md-${id}-train-xgboost`,
      logGroup: "/aws/sagemaker/TrainingJobs",
    });
    expect(tail.events).toHaveLength(5);
    expect(tail.events.at(-1)?.message).toContain("MODELDROP_RESOURCES");
    expect(follow.events).toEqual([]);
    expect(bad).toMatchObject({ status: 400, field: "cursor" });
  });

  it("lists runs newest first across pages with a cursor, and filters them", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await api("POST", "/runs", {
        input: "inbox/api churn.csv",
        options: { modelName: "paged", preset: "fast" },
      });
      ids.push((answer.body as { id: string }).id);
      await ended(ids.at(-1) ?? "");
    }

    const first = as(RunPage, await api("GET", "/runs?model=paged&limit=2"));
    const second = as(RunPage, await api("GET", `/runs?model=paged&limit=2&cursor=${first.next}`));
    const failed = as(RunPage, await api("GET", "/runs?status=FAILED&dataset=api%20churn.csv"));
    const mixed = problem(await api("GET", `/runs?status=SUCCEEDED&limit=2&cursor=${first.next}`));

    expect([...first.runs, ...second.runs].map((r) => r.id)).toEqual([...ids].reverse());
    expect(first.next).toBeDefined();
    expect(failed.runs).toEqual([]);
    expect(mixed).toMatchObject({ status: 400, field: "cursor" });
  });

  it("fills every filtered page until the last, whichever filters are combined", async () => {
    const table = cloud.stack?.outputs.RunsTableName;
    if (!table) throw new Error("the stack has no RunsTableName output");
    const store = new RunsStore(DynamoDBDocumentClient.from(new DynamoDBClient(config)), table);
    const statuses: RunStatus[] = ["SUCCEEDED", "FAILED", "BELOW_THRESHOLD", "STOPPED"];
    // 30 ended runs a minute apart, older than this file's others: few match each filter.
    const seeded: Run[] = Array.from({ length: 30 }, (_, i) => ({
      ...queuedTrainingRun({
        id: `listing-${String(i).padStart(2, "0")}`,
        bucket,
        key: i % 9 === 1 ? "inbox/listing good.csv" : `inbox/listing-${i}.csv`,
        versionId: "v1",
        now: new Date(Date.UTC(2025, 0, 1, 0, i)),
        options: { modelName: i % 7 === 2 ? "listing-churn" : `listing-${i % 5}` },
      }),
      kind: i % 6 === 0 ? "predict" : "train",
      status: statuses[i % statuses.length] ?? "SUCCEEDED",
    }));
    for (const run of seeded) await store.create(run);
    const walk = async (query: string, limit: number) => {
      const pages: z.output<typeof RunPage>[] = [];
      let cursor: string | undefined;
      do {
        const path = `/runs?limit=${limit}${query ? `&${query}` : ""}`;
        const page = as(RunPage, await api("GET", cursor ? `${path}&cursor=${cursor}` : path));
        pages.push(page);
        cursor = page.next;
      } while (cursor && pages.length < 100);
      return pages;
    };
    const everyRun = (await walk("", 100)).flatMap((page) => page.runs);
    const filters: Record<string, string>[] = [
      { dataset: "listing good.csv" },
      { model: "listing-churn" },
      { status: "FAILED" },
      { kind: "predict" },
      { status: "SUCCEEDED", model: "listing-0" },
      { dataset: "listing good.csv", kind: "train" },
      { status: "STOPPED", kind: "train" },
      { model: "listing-churn", kind: "train", status: "STOPPED" },
    ];

    const listedBy: Record<string, (run: z.output<typeof RunPage>["runs"][number]) => unknown> = {
      dataset: (run) => run.dataset.name,
      model: (run) => run.modelName,
      status: (run) => run.status,
      kind: (run) => run.kind,
    };

    const listings = [];
    for (const filter of filters) {
      const query = new URLSearchParams(filter).toString();
      listings.push({ filter, pages: await walk(query, 2) });
    }

    expect(everyRun.filter((run) => run.id.startsWith("listing-")).map((run) => run.id)).toEqual(
      seeded.map((run) => run.id).reverse(),
    );
    for (const { filter, pages } of listings) {
      const expected = everyRun
        .filter((run) =>
          Object.entries(filter).every(([name, value]) => listedBy[name]?.(run) === value),
        )
        .map((run) => run.id);
      const sizes = pages.map((page) => page.runs.length);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(
        pages.flatMap((page) => page.runs.map((run) => run.id)),
        JSON.stringify(filter),
      ).toEqual(expected);
      expect(
        sizes.slice(0, -1).every((size) => size === 2),
        `${JSON.stringify(filter)}: ${sizes}`,
      ).toBe(true);
      expect(sizes.at(-1), JSON.stringify(filter)).toBeGreaterThan(0);
    }
  });

  it("cancels a running run (STOPPED, one notice) and refuses to cancel it twice", async () => {
    await put("inbox/slow api.csv", churnCsv(3000, 4));
    const started = await api("POST", "/runs", {
      input: "inbox/slow api.csv",
      options: {
        algorithm: "xgboost",
        hyperparameters: { num_round: 5000, early_stopping_rounds: 1000 },
      },
    });
    const { id } = started.body as { id: string };
    for (;;) {
      const run = as(RunDetail, await api("GET", `/runs/${id}`));
      if (run.step === "train" && run.progress) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const cancel = await api("POST", `/runs/${id}/cancel`);
    const run = await ended(id);
    const twice = problem(await api("POST", `/runs/${id}/cancel`));

    expect(cancel.status).toBe(202);
    expect(run.status).toBe("STOPPED");
    expect(twice).toMatchObject({ status: 409, code: "run-ended" });
  });

  it("lists the datasets already in inbox/ in key order, a page at a time", async () => {
    // By now the inbox holds this file's two datasets; a sidecar and an empty object start no
    // run, and are not listed.
    await put("inbox/api churn.csv.modeldrop.json", JSON.stringify({ target: "churned" }));
    await put("inbox/empty.csv", "");
    const walk = async (query: string) => {
      const pages: z.output<typeof InboxPage>[] = [];
      let cursor: string | undefined;
      do {
        const path = `/inbox?limit=1${query}${cursor ? `&cursor=${cursor}` : ""}`;
        const page = as(InboxPage, await api("GET", path));
        pages.push(page);
        cursor = page.next;
      } while (cursor && pages.length < 50);
      return pages;
    };

    const all = as(InboxPage, await api("GET", "/inbox"));
    const paged = await walk("");
    const narrowed = as(InboxPage, await api("GET", "/inbox?prefix=api%20"));
    const badCursor = problem(await api("GET", "/inbox?cursor=not+base64url"));

    const keys = all.objects.map((object) => object.key);
    expect(keys).toEqual(expect.arrayContaining(["inbox/api churn.csv", "inbox/slow api.csv"]));
    expect(keys).not.toContain("inbox/api churn.csv.modeldrop.json");
    expect(keys).not.toContain("inbox/empty.csv");
    expect(keys).toEqual([...keys].sort());
    expect(all.objects.find((object) => object.key === "inbox/api churn.csv")).toMatchObject({
      name: "api churn.csv",
      size: churnCsv(300).length,
    });
    expect(paged.length).toBeGreaterThan(1);
    expect(paged.every((page) => page.objects.length <= 1)).toBe(true);
    expect(paged.flatMap((page) => page.objects.map((object) => object.key))).toEqual(keys);
    expect(narrowed.objects.map((object) => object.key)).toEqual(["inbox/api churn.csv"]);
    expect(badCursor).toMatchObject({ status: 400, field: "cursor" });
  });

  it("retries an ended run as a new run linked to it, on the same input version", async () => {
    const old = as(RunPage, await api("GET", "/runs?model=api-run")).runs[0];
    if (!old) throw new Error("the first test's run is missing");

    const retry = await api("POST", `/runs/${old.id}/retry`);
    const { id } = retry.body as { id: string };
    const run = await ended(id);

    expect(retry.status).toBe(202);
    expect(id).not.toBe(old.id);
    expect(run).toMatchObject({
      retryOf: old.id,
      status: "SUCCEEDED",
      dataset: { versionId: old.dataset.versionId },
    });
    expect(run.modelVersion).toBe(2);
  });

  it("hands out a presigned POST into inbox/ capped in size, carrying the options", async () => {
    const upload = as(
      Upload,
      await api("POST", "/uploads", {
        fileName: "posted.csv",
        options: { target: "churned", modelName: "posted", preset: "fast" },
      }),
    );
    const hostile = problem(await api("POST", "/uploads", { fileName: "../../etc/passwd.csv" }));
    const tooBig = problem(
      await api("POST", "/uploads", { fileName: "big.csv", size: 3 * 1024 ** 3 }),
    );
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", new Blob([churnCsv(200)]), "posted.csv");
    const posted = await fetch(upload.url, { method: "POST", body: form });

    expect(upload).toMatchObject({ key: "inbox/posted.csv", maxBytes: 2 * 1024 ** 3 });
    expect(hostile).toMatchObject({ status: 400, field: "fileName" });
    expect(tooBig).toMatchObject({ status: 413 });
    expect(posted.status).toBe(204);
    await cloud.events.settle();
    const runs = as(RunPage, await api("GET", "/runs?model=posted"));
    expect(runs.runs).toHaveLength(1);
    const run = await ended(runs.runs[0]?.id ?? "");
    expect(run).toMatchObject({ optionsSource: "metadata", options: { target: "churned" } });
  });

  it("approves and rejects registered versions, recording who and when, refusing a repeat", async () => {
    const started = await api("POST", "/runs", {
      input: "inbox/api churn.csv",
      options: { modelName: "reviewed", manualApproval: true, preset: "fast" },
    });
    await ended((started.body as { id: string }).id);

    const pending = as(ModelDetail, await api("GET", "/models/reviewed"));
    const approved = as(
      ModelVersionView,
      await api("POST", "/models/reviewed/versions/1/approve", {
        by: "alice",
        reason: "looks right",
      }),
    );
    const twice = problem(await api("POST", "/models/reviewed/versions/1/approve", {}));
    const rejected = as(
      ModelVersionView,
      await api("POST", "/models/reviewed/versions/1/reject", {}),
    );
    const missing = problem(await api("POST", "/models/reviewed/versions/9/approve", {}));
    const models = as(ModelPage, await api("GET", "/models"));

    expect(pending.versions[0]).toMatchObject({ version: 1, approval: "Pending" });
    expect(pending.approvedVersion).toBeUndefined();
    expect(approved).toMatchObject({
      approval: "Approved",
      decidedBy: "alice",
      reason: "looks right",
    });
    expect(Date.parse(approved.decidedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    expect(twice).toMatchObject({ status: 409, code: "already-decided" });
    expect(rejected).toMatchObject({ approval: "Rejected", decidedBy: "api-token" });
    expect(missing).toMatchObject({ status: 404, code: "model-version-not-found" });
    expect(models.models.map((m) => m.name)).toEqual(
      expect.arrayContaining(["api-run", "reviewed"]),
    );
  });

  it("runs batch predictions with the newest Approved version as a run of kind predict", async () => {
    const rows = churnCsv(25, 9).trim().split("\n");
    const header = rows[0]?.split(",").slice(0, -1).join(",");
    const inputs = rows.slice(1).map((row) => row.split(",").slice(0, -1).join(","));
    await put("inputs/to-score.csv", `${header}\n${inputs.join("\n")}\n`);

    const started = await api("POST", "/predictions", {
      modelName: "api-run",
      input: "inputs/to-score.csv",
    });
    const noneApproved = problem(
      await api("POST", "/predictions", { modelName: "reviewed", input: "inputs/to-score.csv" }),
    );
    const run = await ended((started.body as { id: string }).id);

    expect(started.status).toBe(202);
    expect(noneApproved).toMatchObject({ status: 409, code: "no-approved-version" });
    expect(run).toMatchObject({
      kind: "predict",
      status: "SUCCEEDED",
      model: { name: "api-run", version: 2 },
    });
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `runs/${run.id}/predictions/to-score.csv.out` }),
    );
    const predictions = (await out.Body?.transformToString())?.trim().split("\n") ?? [];
    expect(predictions).toHaveLength(25);
    expect(JSON.parse(predictions[0] ?? "{}")).toHaveProperty("prediction");
  });

  it("serves a version on an endpoint: InService, rows in as CSV or JSON, promoted, rolled back and deleted, one notice each", async () => {
    const rows = churnCsv(6, 11).trim().split("\n");
    const header = rows[0]?.split(",").slice(0, -1) ?? [];
    const values = rows.slice(1).map((row) => row.split(",").slice(0, -1));
    const csv = `${[header, ...values].map((r) => r.join(",")).join("\n")}\n`;
    const json = JSON.stringify(
      values.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i]]))),
    );

    const created = await api("POST", "/models/api-run/endpoints", { version: 1 });
    expect(created.status).toBe(202);
    expect(as(EndpointView, created)).toMatchObject({ status: "Creating", version: 1 });
    const inService = await settled("api-run", "serverless");
    const byCsv = as(Invocation, await invoke("api-run", csv, "text/csv"));
    const headerless = as(
      Invocation,
      await invoke("api-run", values.map((r) => r.join(",")).join("\n"), "text/csv"),
    );
    const byJson = as(Invocation, await invoke("api-run", json, "application/json"));
    const missing = problem(
      await invoke(
        "api-run",
        // Without monthly_usage, a feature the model uses (customer_id is dropped as an id).
        `${header.filter((_, i) => i !== 1).join(",")}\n${values[0]?.filter((_, i) => i !== 1).join(",")}\n`,
        "text/csv",
      ),
    );
    const image = problem(
      await invoke(
        "api-run",
        Buffer.from(
          // A valid 1×1 PNG.
          "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
          "base64",
        ),
        "image/png",
      ),
    );
    const unsupported = problem(await invoke("api-run", "hello", "text/plain"));
    const second = problem(await api("POST", "/models/api-run/endpoints", {}));
    const unknownType = problem(
      await api("POST", "/models/api-run/endpoints", {
        mode: "realtime",
        instanceType: "ml.x9.huge",
      }),
    );

    expect(inService).toMatchObject({ status: "InService", version: 1, invocations: 0 });
    expect(inService.cost.hourlyUsd).toBe(0);
    expect(byCsv).toMatchObject({ modelName: "api-run", version: 1, mode: "serverless" });
    expect(byCsv.predictions).toHaveLength(6);
    expect(byCsv.predictions?.[0]).toHaveProperty("probabilities");
    expect(headerless.predictions).toEqual(byCsv.predictions);
    expect(byJson.predictions).toEqual(byCsv.predictions);
    expect(missing).toMatchObject({ status: 400, field: "body" });
    expect(missing.detail).toContain("missing columns: monthly_usage");
    expect(image.detail).toContain("predicts from table rows, not images");
    expect(unsupported).toMatchObject({ status: 415, code: "unsupported-media-type" });
    expect(second).toMatchObject({ status: 409, code: "endpoint-exists" });
    expect(unknownType).toMatchObject({ status: 400, field: "instanceType" });

    const promoting = await api("POST", "/models/api-run/endpoints/serverless/promote", {});
    expect(as(EndpointView, promoting)).toMatchObject({
      status: "Updating",
      updating: { version: 2 },
    });
    const promoted = await settled("api-run", "serverless");
    const onTwo = as(Invocation, await invoke("api-run", csv, "text/csv"));
    await api("POST", "/models/api-run/endpoints/serverless/promote", { version: 1 });
    const rolledBack = await settled("api-run", "serverless");
    const deleting = await api("DELETE", "/models/api-run/endpoints/serverless", {
      reason: "test over",
    });
    const deleted = await settled("api-run", "serverless");
    const gone = problem(await invoke("api-run", csv, "text/csv"));
    const twice = problem(await api("DELETE", "/models/api-run/endpoints/serverless"));
    const listed = as(EndpointPage, await api("GET", "/endpoints?model=api-run"));

    expect(promoted).toMatchObject({ status: "InService", version: 2 });
    expect(onTwo.version).toBe(2);
    expect(rolledBack).toMatchObject({ status: "InService", version: 1 });
    expect(deleting.status).toBe(202);
    expect(deleted).toMatchObject({
      status: "Deleted",
      deletion: { by: "api-token", reason: "test over" },
      // Every request the model answered, the two it refused included (SageMaker bills those too).
      invocations: 6,
    });
    expect(gone).toMatchObject({ status: 404, code: "endpoint-not-found" });
    expect(twice).toMatchObject({ status: 409, code: "endpoint-deleted" });
    expect(listed.endpoints[0]?.history.map((h) => h.event)).toEqual([
      "create-requested",
      "in-service",
      "promote-requested",
      "promoted",
      "promote-requested",
      "promoted",
      "delete-requested",
      "deleted",
    ]);
    const subjects = mailedSubjects().filter((s) => s.includes("api-run serverless endpoint"));
    expect(subjects).toEqual(
      expect.arrayContaining([
        "modeldrop: api-run serverless endpoint in service, version 1",
        "modeldrop: api-run serverless endpoint now serves version 2",
        "modeldrop: api-run serverless endpoint now serves version 1",
        "modeldrop: api-run serverless endpoint deleted",
      ]),
    );
    expect(subjects).toHaveLength(4);
  });

  it("deploys the version its quality gate approves when the model deploys on approval, until that is turned off", async () => {
    const set = await api("PUT", "/models/served-on-approval/deploy-on-approval", {
      mode: "serverless",
      idleTimeoutMinutes: 0,
    });
    const wrongMode = problem(
      await api("PUT", "/models/served-on-approval/deploy-on-approval", {
        mode: "serverless",
        instanceType: "ml.m5.large",
      }),
    );
    expect(set.status).toBe(200);
    expect(as(DeployOnApprovalView, set).deployOnApproval).toMatchObject({
      mode: "serverless",
      settings: { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
      idleTimeoutMinutes: 0,
      setBy: "api-token",
    });
    expect(wrongMode).toMatchObject({ status: 400, field: "instanceType" });

    const started = await api("POST", "/runs", {
      input: "inbox/api churn.csv",
      options: { modelName: "served-on-approval", preset: "fast" },
    });
    const run = await ended((started.body as { id: string }).id);
    expect(run).toMatchObject({
      status: "SUCCEEDED",
      model: { name: "served-on-approval", version: 1, approval: "Approved" },
    });
    // The run's end does not wait for the endpoint: the approval event made it on the side.
    const serving = await settled("served-on-approval", "serverless");
    const model = as(ModelDetail, await api("GET", "/models/served-on-approval"));
    const cleared = await api("DELETE", "/models/served-on-approval/deploy-on-approval");
    const after = as(ModelDetail, await api("GET", "/models/served-on-approval"));
    await api("DELETE", "/models/served-on-approval/endpoints/serverless");
    const deleted = await settled("served-on-approval", "serverless");

    expect(serving).toMatchObject({
      status: "InService",
      version: 1,
      idleTimeoutMinutes: 0,
      createdBy: "deploy-on-approval (version 1 approved by quality-gate)",
    });
    expect(model.deployOnApproval?.mode).toBe("serverless");
    expect(as(DeployOnApprovalView, cleared)).toEqual({
      modelName: "served-on-approval",
      deployOnApproval: null,
    });
    expect(after.deployOnApproval).toBeUndefined();
    expect(deleted.status).toBe("Deleted");
    expect(mailedSubjects()).toContain(
      "modeldrop: served-on-approval serverless endpoint in service, version 1",
    );
  });

  it("deletes an endpoint idle for its timeout on the sweeper's schedule, saying so and what it cost", async () => {
    await api("POST", "/models/api-run/endpoints", { mode: "realtime", idleTimeoutMinutes: 30 });
    const serving = await settled("api-run", "realtime");
    const table = cloud.stack?.outputs.EndpointsTableName;
    if (!table) throw new Error("the stack has no EndpointsTableName output");
    const store = new EndpointsStore(
      DynamoDBDocumentClient.from(new DynamoDBClient(config)),
      table,
    );
    const current = await store.current("api-run", "realtime");
    if (!current) throw new Error("no realtime endpoint record");
    // Its clock set back 45 minutes, as if nobody had called it since.
    const earlier = new Date(Date.now() - 45 * 60_000).toISOString();
    await store.update(current, { createdAt: earlier, inServiceAt: earlier });
    const rules = await new EventBridgeClient(config).send(new ListRulesCommand({}));
    const sweeper = rules.Rules?.find((r) => r.ScheduleExpression === "rate(5 minutes)")?.Name;
    if (!sweeper) throw new Error("the stack has no sweeper schedule");

    await cloud.events.runSchedule(sweeper);
    const deleted = await settled("api-run", "realtime");

    expect(serving.status).toBe("InService");
    expect(deleted).toMatchObject({ status: "Deleted", deletion: { by: "idle-timeout" } });
    expect(deleted.deletion?.reason).toMatch(/no invocation through modeldrop for 4[5-6] minutes/);
    // 45 minutes of one ml.m5.large at $0.115 an hour, about $0.086.
    expect(deleted.cost.usd).toBeGreaterThan(0.08);
    const outbox = join(cloud.stateDir, "outbox");
    const mail = readdirSync(outbox)
      .map((name) => readFileSync(join(outbox, name), "utf8"))
      .find((m) => m.includes("api-run realtime endpoint deleted"));
    expect(mail).toMatch(/no invocation through modeldrop for 4[5-6] minutes/);
    expect(mail).toMatch(/cost \$0\.0[89]/);
  });
});
