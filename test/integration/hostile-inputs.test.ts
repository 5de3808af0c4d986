// Hostile inputs, table-driven, against the whole stack on the local cloud: malformed files and
// archives, lying headers, keys that look like paths, impossible options, and API requests
// that try to reach what they must not. Each case checks what its user would see (the run's
// status and reason, or the HTTP answer) and that the notice says the same; the last test
// checks that every object version and record stored before the hostile inputs arrived is
// byte-for-byte what it was.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runIdForDrop } from "../../core/run-ids.js";
import type { Run } from "../../core/run-record.js";
import type { LocalCloud } from "../../local/cloud.js";
import { churnCsv } from "./datasets.js";
import { type ClientConfig, startPipelineCloud } from "./pipeline-stack.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const TERMINAL = ["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"];

let cloud: LocalCloud;
let config: ClientConfig;
let s3: S3Client;
let bucket: string;
let token: string;
let db: DynamoDBDocumentClient;
let cleanup: () => Promise<void>;
let goodRunId: string;
let before: Map<string, string>;

// ---- what a user would look at -------------------------------------------------------------

async function record(id: string): Promise<Run | undefined> {
  const found = await db.send(
    new GetCommand({ TableName: cloud.stack?.outputs.RunsTableName, Key: { id } }),
  );
  return found.Item as Run | undefined;
}

async function ended(id: string, timeoutMs = 240_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await record(id);
    if (run?.noticeSentAt && TERMINAL.includes(run.status)) {
      await cloud.events.settle();
      // SNS answers Publish before it delivers: wait for the email to be in the outbox.
      await cloud.sns.settle();
      return (await record(id)) ?? run;
    }
    if (Date.now() > deadline) throw new Error(`run ${id} did not end: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function emailsAbout(runId: string): string[] {
  const outbox = join(cloud.stateDir, "outbox");
  if (!existsSync(outbox)) return [];
  return readdirSync(outbox)
    .filter((name) => name.endsWith(".eml"))
    .map((name) => readFileSync(join(outbox, name), "utf8"))
    .filter((text) => text.includes(`Run ${runId}:`));
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${token}` },
): Promise<Answer> {
  const response = await fetch(`${cloud.apiEndpoint}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed };
}

/** Every object version (its bytes' sha256) and every record, keyed by where it lives. */
async function snapshot(): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
      }),
    );
    for (const version of page.Versions ?? []) {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: version.Key, VersionId: version.VersionId }),
      );
      const bytes = await object.Body?.transformToByteArray();
      const digest = createHash("sha256")
        .update(bytes ?? new Uint8Array())
        .digest("hex");
      state.set(`s3://${bucket}/${version.Key}?versionId=${version.VersionId}`, digest);
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  const tables: [string | undefined, (item: Record<string, unknown>) => string | undefined][] = [
    [cloud.stack?.outputs.RunsTableName, (item) => String(item.id)],
    // A model's version counter (version 0) counts on by design; the versions themselves stay.
    [
      cloud.stack?.outputs.ModelsTableName,
      (item) => (item.version === 0 ? undefined : `${item.modelName}#${item.version}`),
    ],
  ];
  for (const [table, keyOf] of tables) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) {
        const key = keyOf(item);
        if (key)
          state.set(`dynamodb:${table}/${key}`, JSON.stringify(item, Object.keys(item).sort()));
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return state;
}

// ---- the files ------------------------------------------------------------------------------

/** Files only Python makes well (Parquet, zips, images), written once into a temp folder. */
function pythonFixtures(): string {
  const folder = mkdtempSync(join(tmpdir(), "modeldrop-hostile-"));
  execFileSync(PYTHON, ["-c", PYTHON_FIXTURES, folder], { stdio: "inherit" });
  return folder;
}

const PYTHON_FIXTURES = `
import io, struct, sys, zipfile
import numpy as np, pandas as pd
from PIL import Image
out = sys.argv[1]
rng = np.random.default_rng(3)
frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "y": rng.integers(0, 2, 200)})
frame.to_parquet(f"{out}/full.parquet")
data = open(f"{out}/full.parquet", "rb").read()
open(f"{out}/truncated.parquet", "wb").write(data[: len(data) // 2])

def png(seed):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()

def archive(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, payload in members:
            z.writestr(name, payload)

archive(f"{out}/one-class.zip", [(f"cats/{i}.png", png(i)) for i in range(8)])
archive(f"{out}/no-images.zip", [("readme.txt", b"hello"), ("cats/notes.txt", b"meow")])
archive(f"{out}/traversal.zip", [("../../evil/0.png", png(1))] + [(f"dogs/{i}.png", png(i)) for i in range(6)])
archive(f"{out}/corrupt-images.zip", [(f"{c}/{i}.png", b"not a png at all") for c in ("a", "b") for i in range(6)])
# A zip whose local header claims a size the member does not have.
archive(f"{out}/lying.zip", [(f"{c}/{i}.png", png(i)) for c in ("a", "b") for i in range(6)])
raw = bytearray(open(f"{out}/lying.zip", "rb").read())
at = raw.find(b"PK\\x03\\x04")
struct.pack_into("<I", raw, at + 18, 10)        # compressed size
struct.pack_into("<I", raw, at + 22, 10)        # uncompressed size
cd = raw.find(b"PK\\x01\\x02")
struct.pack_into("<I", raw, cd + 20, 10)
struct.pack_into("<I", raw, cd + 24, 10)
open(f"{out}/lying.zip", "wb").write(bytes(raw))
`;

function rows(header: string, make: (i: number) => string, count: number): string {
  return `${[header, ...Array.from({ length: count }, (_, i) => make(i))].join("\n")}\n`;
}

interface DropCase {
  name: string;
  key: string;
  body: () => string | Buffer;
  metadata?: Record<string, string>;
  sidecar?: string;
  /** The run's end: status, failed step and the words its reason must hold. */
  expected:
    | { status: string; step?: string; reason?: (string | RegExp)[]; note?: string }
    | { ignored: true };
}

let fixtures = "";
const file = (name: string) => () => readFileSync(join(fixtures, name));
const options = (value: unknown) => ({ "modeldrop-options": JSON.stringify(value) });
const badOption = options({ threshold: -5, metric: "roc_auc" });
const csv = () => churnCsv(60, 11);

const DROPS: DropCase[] = [
  {
    name: "an empty file is ignored, not a run",
    key: "inbox/empty.csv",
    body: () => "",
    expected: { ignored: true },
  },
  {
    name: "a header with no rows",
    key: "inbox/header-only.csv",
    body: () => "a,b,y\n",
    expected: { status: "FAILED", step: "preprocess", reason: ["no data rows"] },
  },
  {
    name: "binary data named .csv",
    key: "inbox/binary.csv",
    body: () => Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 37 + 11) % 256)),
    expected: { status: "FAILED", step: "preprocess", reason: ["binary"] },
  },
  {
    name: "Latin-1 text",
    key: "inbox/latin1.csv",
    body: () =>
      Buffer.from(
        rows("name,value,y", (i) => `caf\u00e9 ${i},${i},${i % 2}`, 40),
        "latin1",
      ),
    expected: { status: "FAILED", step: "preprocess", reason: ["UTF-8", /line \d+/] },
  },
  {
    name: "UTF-16 without a byte-order mark, cut short",
    key: "inbox/utf16.csv",
    body: () => {
      const text = Buffer.from(
        rows("a,b,y", (i) => `${i},${i * 2},${i % 2}`, 40),
        "utf16le",
      );
      return text.subarray(0, text.length - 1);
    },
    expected: { status: "FAILED", step: "preprocess", reason: ["UTF-16"] },
  },
  {
    name: "a file mixing delimiters",
    key: "inbox/mixed.csv",
    body: () =>
      rows("a,b,c,y", (i) => (i % 2 === 0 ? `${i},${i},${i},${i % 2}` : `${i};${i};${i};1`), 60),
    expected: { status: "FAILED", step: "preprocess", reason: [/line \d+/] },
  },
  {
    name: "a truncated Parquet file",
    key: "inbox/truncated.parquet",
    body: file("truncated.parquet"),
    expected: { status: "FAILED", step: "preprocess", reason: ["truncated.parquet"] },
  },
  {
    name: "a zip whose header lies about a member's size",
    key: "inbox/lying.zip",
    body: file("lying.zip"),
    expected: { status: "FAILED", step: "preprocess", reason: [/corrupt|damaged|truncated/i] },
  },
  {
    name: "a zip with ../ paths",
    key: "inbox/traversal.zip",
    body: file("traversal.zip"),
    expected: { status: "FAILED", step: "preprocess", reason: [".."] },
  },
  {
    name: "a zip of one class",
    key: "inbox/one-class.zip",
    body: file("one-class.zip"),
    expected: { status: "FAILED", step: "preprocess", reason: ["class"] },
  },
  {
    name: "a zip with no images",
    key: "inbox/no-images.zip",
    body: file("no-images.zip"),
    expected: { status: "FAILED", step: "preprocess", reason: ["image"] },
  },
  {
    name: "a zip of corrupt images",
    key: "inbox/corrupt-images.zip",
    body: file("corrupt-images.zip"),
    expected: { status: "FAILED", step: "preprocess", reason: ["corrupt"] },
  },
  {
    name: "a spreadsheet",
    key: "inbox/budget.xlsx",
    body: () => "PK not really a spreadsheet",
    expected: { status: "FAILED", step: "intake", reason: ["budget.xlsx is not a format"] },
  },
  {
    name: "a target option naming a missing column",
    key: "inbox/no-target.csv",
    body: csv,
    metadata: options({ target: "revenue" }),
    expected: { status: "FAILED", step: "preprocess", reason: ["revenue"] },
  },
  {
    name: "a target with a single class",
    key: "inbox/one-value.csv",
    body: () => rows("a,b,y", (i) => `${i},${i * 3},yes`, 60),
    expected: { status: "FAILED", step: "preprocess", reason: ["y", /one|single/] },
  },
  {
    name: "too few rows",
    key: "inbox/tiny.csv",
    body: () => rows("a,b,y", (i) => `${i},${i},${i % 2}`, 12),
    expected: { status: "FAILED", step: "preprocess", reason: ["20"] },
  },
  {
    name: "a class too small to split",
    key: "inbox/rare.csv",
    body: () => rows("a,b,y", (i) => `${i},${i % 7},${i < 3 ? "rare" : i % 2 ? "x" : "z"}`, 60),
    expected: { status: "FAILED", step: "preprocess", reason: ["rare"] },
  },
  {
    name: "many rows without a target",
    key: "inbox/holes.csv",
    body: () => rows("a,b,y", (i) => `${i},${i % 5},${i % 4 === 0 ? "" : i % 2}`, 80),
    expected: { status: "FAILED", step: "preprocess", reason: ["%"] },
  },
  {
    name: "an infinite target",
    key: "inbox/infinite.csv",
    body: () => rows("a,b,price", (i) => `${i},${i % 5},${i === 7 ? "inf" : i * 1.5}`, 80),
    expected: { status: "FAILED", step: "preprocess", reason: [/infinite|inf/] },
  },
  {
    name: "a threshold below the metric's range, in metadata",
    key: "inbox/gate-low.csv",
    body: csv,
    metadata: badOption,
    expected: {
      status: "FAILED",
      step: "intake",
      reason: ["option threshold: -5 is outside the range of roc_auc, [0, 1]"],
    },
  },
  {
    name: "a threshold above the metric's range, in a sidecar",
    key: "inbox/gate-high.csv",
    body: csv,
    sidecar: JSON.stringify({ metric: "accuracy", threshold: 2 }),
    expected: {
      status: "FAILED",
      step: "intake",
      reason: ["option threshold: 2 is outside the range of accuracy, [0, 1]"],
    },
  },
  {
    name: "metadata options that are not JSON",
    key: "inbox/meta-garbage.csv",
    body: csv,
    metadata: { "modeldrop-options": "{target: churned" },
    expected: { status: "FAILED", step: "intake", reason: ["JSON"] },
  },
  {
    name: "an unknown option in a sidecar",
    key: "inbox/typo.csv",
    body: csv,
    sidecar: JSON.stringify({ targte: "churned" }),
    expected: { status: "FAILED", step: "intake", reason: ["option targte is not a known option"] },
  },
  {
    name: "a metric the named task does not report",
    key: "inbox/wrong-metric.csv",
    body: csv,
    metadata: options({ task: "regression", metric: "roc_auc" }),
    expected: { status: "FAILED", step: "intake", reason: ["roc_auc is not reported"] },
  },
  {
    name: "a hyperparameter of another algorithm",
    key: "inbox/wrong-hyper.csv",
    body: csv,
    metadata: options({ algorithm: "linear", hyperparameters: { max_depth: 3 } }),
    expected: { status: "FAILED", reason: ["max_depth"] },
  },
  {
    name: "a key with .. segments stays a literal key",
    key: "inbox/../escape.csv",
    body: csv,
    metadata: badOption,
    expected: { status: "FAILED", step: "intake", reason: ["outside the range"] },
  },
  {
    name: "a key with percent-encoded dots stays a literal key",
    key: "inbox/%2E%2E/dots.csv",
    body: csv,
    metadata: badOption,
    expected: { status: "FAILED", step: "intake", reason: ["outside the range"] },
  },
  {
    name: "a key aiming at another run's report",
    key: "inbox/../runs/GOOD/report/index.html",
    body: () => "<h1>replaced</h1>",
    expected: { status: "FAILED", step: "intake", reason: ["index.html is not a format"] },
  },
  {
    name: "a key with spaces, plus signs and accents",
    key: "inbox/q1 sales+2024 d\u00e9j\u00e0.csv",
    body: csv,
    metadata: badOption,
    expected: { status: "FAILED", step: "intake", reason: ["outside the range"] },
  },
  {
    name: "a key of S3's full 1024 bytes",
    key: `inbox/${"x".repeat(1024 - "inbox/".length - ".csv".length)}.csv`,
    body: csv,
    metadata: badOption,
    expected: { status: "FAILED", step: "intake", reason: ["outside the range"] },
  },
  {
    name: "a new version of a trained file that is broken",
    key: "inbox/good.csv",
    body: () => "a,b,y\n",
    expected: { status: "FAILED", step: "preprocess", reason: ["no data rows"] },
  },
  {
    name: "another dataset under the same model name",
    key: "inbox/housing.csv",
    body: () =>
      rows(
        "rooms,area,price",
        (i) =>
          `${(i % 5) + 1},${50 + ((i * 7) % 90)},${30 * ((i % 5) + 1) + 2 * (50 + ((i * 7) % 90)) + (i % 3)}`,
        80,
      ),
    metadata: options({ modelName: "good" }),
    expected: { status: "SUCCEEDED", note: "schema differs from good version 1" },
  },
];

const dropIds = new Map<string, string>();

// ---- set-up: one good model, then everything hostile at once --------------------------------

beforeAll(async () => {
  fixtures = pythonFixtures();
  const started = await startPipelineCloud({}, inject("packagedStack"));
  ({ cloud, config, s3, bucket, cleanup, token } = started);
  db = DynamoDBDocumentClient.from(new DynamoDBClient(config));

  const good = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: "inbox/good.csv", Body: churnCsv(120, 2) }),
  );
  goodRunId = runIdForDrop(bucket, "inbox/good.csv", good.VersionId ?? "null");
  const trained = await ended(goodRunId);
  if (trained.status !== "SUCCEEDED") throw new Error(`the good run ${trained.status}`);
  before = await snapshot();

  for (const drop of DROPS) {
    const key = drop.key.replace("GOOD", goodRunId);
    if (drop.sidecar !== undefined)
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${key}.modeldrop.json`,
          Body: drop.sidecar,
        }),
      );
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: drop.body(),
        ...(drop.metadata ? { Metadata: drop.metadata } : {}),
      }),
    );
    dropIds.set(drop.name, runIdForDrop(bucket, key, put.VersionId ?? "null"));
  }
}, 300_000);

afterAll(async () => {
  await cleanup?.();
});

describe("hostile drops", { timeout: 600_000 }, () => {
  it.each(DROPS)("$name", async (drop) => {
    const id = dropIds.get(drop.name) ?? "";
    const key = drop.key.replace("GOOD", goodRunId);
    if ("ignored" in drop.expected) {
      await cloud.events.settle();
      expect(await record(id)).toBeUndefined();
      return;
    }
    const run = await ended(id);
    const expected = drop.expected;

    expect(run.status).toBe(expected.status);
    expect(run.dataset.key).toBe(key);
    if (expected.step) expect(run.failure?.step).toBe(expected.step);
    const reason = run.failure?.reason ?? "";
    for (const words of expected.reason ?? [])
      if (typeof words === "string") expect(reason).toContain(words);
      else expect(reason).toMatch(words);
    // Never blamed on modeldrop, never a machine's path.
    expect(reason).not.toMatch(/modeldrop bug|Traceback|\/opt\/ml|\/tmp\/|\.modeldrop\//);
    const notices = emailsAbout(id);
    expect(notices).toHaveLength(1);
    if (run.failure) expect(notices[0]).toContain(`Reason: ${run.failure.reason}`);
    if (expected.note) {
      expect(run.notes.join("\n")).toContain(expected.note);
      expect(notices[0]).toContain(expected.note);
    }
  });
});

describe("hostile API requests", { timeout: 300_000 }, () => {
  const problemOf = (answer: Answer) => ({
    status: answer.status,
    code: answer.body.code,
    field: answer.body.field,
  });

  it("refuses an impossible threshold in POST /runs, naming the field and the range", async () => {
    const answer = await api("POST", "/runs", {
      input: "inbox/good.csv",
      options: { metric: "roc_auc", threshold: -5 },
    });
    expect(problemOf(answer)).toEqual({
      status: 400,
      code: "invalid-option",
      field: "options.threshold",
    });
    expect(answer.body.detail).toContain("outside the range of roc_auc, [0, 1]");
  });

  it("refuses a metric the task does not report in POST /runs", async () => {
    const answer = await api("POST", "/runs", {
      input: "inbox/good.csv",
      options: { task: "binary", metric: "r2" },
    });
    expect(problemOf(answer)).toEqual({
      status: 400,
      code: "invalid-option",
      field: "options.metric",
    });
  });

  it("refuses an impossible threshold in a presigned upload", async () => {
    const answer = await api("POST", "/uploads", {
      fileName: "x.csv",
      options: { metric: "accuracy", threshold: 2 },
    });
    expect(problemOf(answer)).toEqual({
      status: 400,
      code: "invalid-option",
      field: "options.threshold",
    });
  });

  it("says an empty upload is empty", async () => {
    const answer = await api("POST", "/uploads", { fileName: "nothing.csv", size: 0 });
    expect(problemOf(answer)).toEqual({ status: 400, code: "invalid-request", field: "size" });
    expect(answer.body.detail).toBe("nothing.csv is empty (0 bytes): there is nothing to train on");
  });

  it("treats an input key with .. as the literal key it is", async () => {
    const answer = await api("POST", "/runs", {
      input: `inbox/../runs/${goodRunId}/input/good.csv`,
    });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe("object-not-found");
    expect(answer.body.detail).toContain(`inbox/../runs/${goodRunId}/input/good.csv`);
  });

  it("refuses to train on an object outside inbox/", async () => {
    const answer = await api("POST", "/runs", { input: `runs/${goodRunId}/input/good.csv` });
    expect(problemOf(answer)).toMatchObject({ status: 400, field: "input" });
  });

  it("refuses a body that is not JSON", async () => {
    const answer = await api("POST", "/runs", "{input: inbox/good.csv");
    expect(problemOf(answer)).toMatchObject({ status: 400, code: "invalid-json" });
  });

  it("refuses an oversized body", async () => {
    const answer = await api("POST", "/runs", {
      input: "inbox/good.csv",
      options: { ignoreColumns: Array.from({ length: 9000 }, (_, i) => `column-${i}`) },
    });
    expect([400, 413]).toContain(answer.status);
  });

  it("refuses a run id shaped like a path, naming it", async () => {
    const answer = await api("GET", `/runs/${encodeURIComponent("../../etc/passwd")}`);
    expect(problemOf(answer)).toMatchObject({ status: 400, field: "id" });
  });

  it("answers 404 for a version that does not exist", async () => {
    const answer = await api("POST", "/models/good/versions/99/approve", {});
    expect(problemOf(answer)).toMatchObject({ status: 404, code: "model-version-not-found" });
  });

  it("answers 404 for predictions with a model that does not exist", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "inputs/rows.csv", Body: "a,b\n1,2\n" }),
    );
    const answer = await api("POST", "/predictions", {
      modelName: "no-such-model",
      input: "inputs/rows.csv",
    });
    expect(problemOf(answer)).toMatchObject({ status: 404, code: "model-not-found" });
  });

  it("refuses to cancel a run that ended", async () => {
    const answer = await api("POST", `/runs/${goodRunId}/cancel`, {});
    expect(problemOf(answer)).toMatchObject({ status: 409, code: "run-ended" });
  });

  it("refuses a limit past the maximum", async () => {
    const answer = await api("GET", "/runs?limit=1000");
    expect(problemOf(answer)).toMatchObject({ status: 400, field: "limit" });
  });

  it("refuses requests without the token, or with a wrong one", async () => {
    expect((await api("GET", "/runs", undefined, {})).status).toBe(401);
    expect((await api("GET", "/runs", undefined, { authorization: "Bearer nope" })).status).toBe(
      403,
    );
  });

  it("keeps predictions on the version whose columns they match, and names the columns that do not", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "inputs/housing-rows.csv",
        Body: "rooms,area\n3,70\n2,55\n",
      }),
    );
    const answer = await api("POST", "/predictions", {
      modelName: "good",
      input: "inputs/housing-rows.csv",
    });
    expect(answer.status).toBe(202);
    const run = await ended(String(answer.body.id));
    // The newest Approved version is still the churn model (v1): housing v2 waits, Pending.
    expect(run.model).toMatchObject({ name: "good", version: 1 });
    expect(run.status).toBe("FAILED");
    expect(run.failure?.reason).toMatch(/missing columns: .*monthly_usage/);
    expect(emailsAbout(run.id)[0]).toContain(`Reason: ${run.failure?.reason}`);
  });
});

describe("what was stored before", () => {
  it("is byte for byte what it was: every object version and every record", async () => {
    await cloud.events.settle();
    const after = await snapshot();
    const changed = [...before].filter(([where, digest]) => after.get(where) !== digest);
    expect(changed.map(([where]) => where)).toEqual([]);
    // And nothing escaped to the bucket's root.
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "escape.csv" })),
    ).rejects.toMatchObject({ name: "NotFound" });
  });
});
