/**
 * The code registry's workflows (app/code.ts) over in-memory ports, with real archives packed in
 * memory: what a user sees registered, stored and refused, and which version a run pins. Also
 * the gate a user's modeldrop.json sets on their own evaluation.json.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { pack as tarPack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { registerCode, resolveCode } from "../../app/code.js";
import { withPinnedCode } from "../../app/launch.js";
import {
  type CodeFile,
  packCodeArchive,
  readCodeArchive,
  sha256Hex,
} from "../../core/code-archive.js";
import { manifestScripts, parseManifest } from "../../core/code-manifest.js";
import { InvalidCode, NotFound } from "../../core/errors.js";
import { decideUserGate, EvaluationInvalid, userMetrics } from "../../core/evaluation.js";
import { aRun, FakeCode, FakeObjects } from "./fakes.js";

const BUCKET = "modeldrop-data";
const NOW = new Date("2026-11-02T10:30:00Z");
const SETTINGS = { region: "us-east-1", codeSha256: "c0ffee".padEnd(64, "0") };
const EXAMPLES = resolve(import.meta.dirname, "..", "..", "examples");

function world() {
  return { objects: new FakeObjects(), code: new FakeCode(), now: () => NOW };
}
type World = ReturnType<typeof world>;

/** An example's modeldrop.json and the scripts it names, as read from examples/<name>/. */
function exampleFiles(example: string): CodeFile[] {
  const read = (path: string) => readFileSync(join(EXAMPLES, example, path));
  const manifest = parseManifest(JSON.parse(read("modeldrop.json").toString("utf8")));
  return ["modeldrop.json", ...manifestScripts(manifest)].map((path) => ({
    path,
    executable: false,
    data: read(path),
  }));
}

/** The files with one replaced (or added). */
function withFile(files: CodeFile[], path: string, data: string | Buffer): CodeFile[] {
  return [
    ...files.filter((file) => file.path !== path),
    { path, executable: false, data: Buffer.from(data) },
  ];
}

/** The archive uploaded where POST /uploads with purpose `code` puts it; its key. */
function upload(ports: World, archive: Buffer, fileName = "churn-code.tar.gz"): string {
  const key = `code-uploads/${fileName}`;
  ports.objects.put(BUCKET, key, archive);
  return key;
}

async function register(ports: World, archive: Buffer, codeName = "churn-code") {
  return registerCode(ports, { bucket: BUCKET, codeName, uploadKey: upload(ports, archive) });
}

/** A .tar.gz with exactly these entry names, as a hostile client could write it. */
async function rawTarGz(entries: { name: string; data: string }[]): Promise<Buffer> {
  const pack = tarPack();
  for (const { name, data } of entries) pack.entry({ name }, data);
  pack.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  return gzipSync(Buffer.concat(chunks));
}

/** The InvalidCode registering `archive` throws, after checking nothing was registered. */
async function refusedRegistration(archive: Buffer): Promise<InvalidCode> {
  const ports = world();
  const error = await register(ports, archive).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof InvalidCode)) throw new Error(`expected InvalidCode, got ${error}`);
  expect(await ports.objects.listKeys(BUCKET, "code/")).toEqual([]);
  expect(await ports.code.versions("churn-code")).toEqual([]);
  return error;
}

describe("registering a code archive", () => {
  it("stores the packed archive once under code/<sha256>/ and makes version 1", async () => {
    const ports = world();
    const archive = await packCodeArchive(exampleFiles("sklearn-chain"));

    const { version, created } = await register(ports, archive);

    expect(created).toBe(true);
    expect(version).toMatchObject({
      codeName: "churn-code",
      version: 1,
      sha256: sha256Hex(archive),
      sourcedir: `s3://${BUCKET}/code/${sha256Hex(archive)}/sourcedir.tar.gz`,
      files: 8,
      createdAt: NOW.toISOString(),
    });
    expect(version.manifest.processing?.map((step) => step.name)).toEqual([
      "read",
      "clean",
      "prepare",
      "normalize",
    ]);
    expect(await ports.objects.listKeys(BUCKET, "code/")).toEqual([
      `code/${version.sha256}/sourcedir.tar.gz`,
    ]);
    expect(ports.objects.contentTypeOf(BUCKET, `code/${version.sha256}/sourcedir.tar.gz`)).toBe(
      "application/gzip",
    );
    expect(await ports.code.versions("churn-code")).toEqual([version]);
  });

  it("stores an archive that unpacks to the files the user uploaded", async () => {
    const ports = world();
    const files = exampleFiles("xgboost-gated");

    const { version } = await register(ports, await packCodeArchive(files));
    const stored = await ports.objects.getBuffer(BUCKET, `code/${version.sha256}/sourcedir.tar.gz`);

    expect(stored && sha256Hex(stored)).toBe(version.sha256);
    const unpacked = await readCodeArchive(stored ?? Buffer.alloc(0));
    expect(unpacked.map((file) => [file.path, file.data.toString()])).toEqual(
      files
        .map((file) => [file.path, file.data.toString()])
        .sort(([a = ""], [b = ""]) => a.localeCompare(b)),
    );
  });

  it("gives back the newest version for the same files, uploaded again", async () => {
    const ports = world();
    const first = await register(ports, await packCodeArchive(exampleFiles("xgboost-gated")));

    const again = await register(
      ports,
      await packCodeArchive([...exampleFiles("xgboost-gated")].reverse()),
    );

    expect(again).toEqual({ version: first.version, created: false });
    expect(await ports.code.versions("churn-code")).toHaveLength(1);
  });

  it("makes version 2, stored apart, when one byte of one script changes", async () => {
    const ports = world();
    const files = exampleFiles("xgboost-gated");
    const first = await register(ports, await packCodeArchive(files));
    const train = files.find((file) => file.path === "train.py")?.data.toString() ?? "";

    const second = await register(
      ports,
      await packCodeArchive(withFile(files, "train.py", train.replace("0", "1"))),
    );

    expect(second.created).toBe(true);
    expect(second.version.version).toBe(2);
    expect(second.version.sha256).not.toBe(first.version.sha256);
    expect(await ports.objects.listKeys(BUCKET, "code/")).toEqual(
      [first.version.sha256, second.version.sha256]
        .sort()
        .map((sha) => `code/${sha}/sourcedir.tar.gz`),
    );
  });

  it("refuses an upload key outside code-uploads/, naming the field", async () => {
    const ports = world();
    ports.objects.put(
      BUCKET,
      "inbox/churn-code.tar.gz",
      await packCodeArchive(exampleFiles("xgboost-gated")),
    );

    const registering = registerCode(ports, {
      bucket: BUCKET,
      codeName: "churn-code",
      uploadKey: "inbox/churn-code.tar.gz",
    });

    await expect(registering).rejects.toBeInstanceOf(InvalidCode);
    await expect(registering).rejects.toMatchObject({
      field: "upload",
      message: 'upload must be a key under code-uploads/ (POST /uploads with purpose "code")',
    });
  });

  it("answers NotFound for an upload that is not there", async () => {
    const ports = world();

    const registering = registerCode(ports, {
      bucket: BUCKET,
      codeName: "churn-code",
      uploadKey: "code-uploads/never-uploaded.tar.gz",
    });

    await expect(registering).rejects.toBeInstanceOf(NotFound);
    await expect(registering).rejects.toMatchObject({
      code: "object-not-found",
      message: `s3://${BUCKET}/code-uploads/never-uploaded.tar.gz does not exist`,
    });
  });
});

describe("a code archive modeldrop refuses, registering nothing", () => {
  it("has no modeldrop.json", async () => {
    const files = exampleFiles("xgboost-gated").filter((file) => file.path !== "modeldrop.json");

    const error = await refusedRegistration(await packCodeArchive(files));

    expect(error.message).toBe(
      "the code archive has no modeldrop.json at its root; it says which scripts run (see examples/)",
    );
    expect(error.field).toBe("upload");
  });

  it("has a modeldrop.json naming a script it does not hold", async () => {
    const files = exampleFiles("xgboost-gated").filter((file) => file.path !== "split.py");

    const error = await refusedRegistration(await packCodeArchive(files));

    expect(error.message).toBe(
      "modeldrop.json names split.py, which the code archive does not hold (its Python files: evaluate.py, inference.py, train.py)",
    );
  });

  it("has a modeldrop.json that is not JSON", async () => {
    const files = withFile(
      exampleFiles("xgboost-gated"),
      "modeldrop.json",
      '{"framework": "xgboost",',
    );

    const error = await refusedRegistration(await packCodeArchive(files));

    expect(error.message).toMatch(/^modeldrop\.json is not valid JSON: /);
  });

  it("has a modeldrop.json with an unknown key, naming it", async () => {
    const manifest = JSON.parse(
      readFileSync(join(EXAMPLES, "xgboost-gated", "modeldrop.json"), "utf8"),
    );
    const files = withFile(
      exampleFiles("xgboost-gated"),
      "modeldrop.json",
      JSON.stringify({ ...manifest, entry_point: "train.py" }),
    );

    const error = await refusedRegistration(await packCodeArchive(files));

    expect(error.message).toBe("modeldrop.json: entry_point is not a known key");
  });

  it("holds a path that leaves the code folder", async () => {
    const archive = await rawTarGz([
      ...exampleFiles("xgboost-gated").map((file) => ({
        name: file.path,
        data: file.data.toString(),
      })),
      { name: "../outside.py", data: "print('escaped')\n" },
    ]);

    const error = await refusedRegistration(archive);

    expect(error.message).toBe(
      "the code archive holds ../outside.py, a path that leaves the code folder",
    );
  });

  it("is not an archive at all", async () => {
    const error = await refusedRegistration(Buffer.from('{"framework": "xgboost"}'));

    expect(error.message).toBe("the code archive is not a .tar.gz, .tar or .zip");
  });
});

describe("finding the code version a run names", () => {
  async function twoVersions() {
    const ports = world();
    const files = exampleFiles("xgboost-gated");
    const first = await register(ports, await packCodeArchive(files));
    const second = await register(
      ports,
      await packCodeArchive(withFile(files, "notes.txt", "second version\n")),
    );
    return { ports, first: first.version, second: second.version };
  }

  it("is the newest version when the run names none", async () => {
    const { ports, second } = await twoVersions();

    expect(await resolveCode(ports, { name: "churn-code" })).toEqual(second);
  });

  it("is the version the run names", async () => {
    const { ports, first } = await twoVersions();

    expect(await resolveCode(ports, { name: "churn-code", version: 1 })).toEqual(first);
  });

  it("answers code-not-found for a name never registered", async () => {
    const { ports } = await twoVersions();

    const resolving = resolveCode(ports, { name: "fraud-code" });

    await expect(resolving).rejects.toBeInstanceOf(NotFound);
    await expect(resolving).rejects.toMatchObject({
      code: "code-not-found",
      message: expect.stringContaining("no code named fraud-code is registered"),
    });
  });

  it("answers code-version-not-found for a version the name does not have", async () => {
    const { ports } = await twoVersions();

    await expect(resolveCode(ports, { name: "churn-code", version: 7 })).rejects.toMatchObject({
      code: "code-version-not-found",
      message: "code churn-code has no version 7",
    });
  });

  it("is pinned on a new run with a note saying which version, so retries use the same scripts", async () => {
    const { ports, second } = await twoVersions();
    const run = aRun({ options: { code: { name: "churn-code" } } });

    const pinned = await withPinnedCode(ports, run, SETTINGS);

    expect(pinned.code).toEqual({ name: "churn-code", version: 2, sha256: second.sha256 });
    expect(pinned.notes).toEqual(["your own scripts: code churn-code version 2 (the newest)"]);
  });

  it("stays pinned to the version the run recorded after a newer one is registered", async () => {
    const { ports, first, second } = await twoVersions();
    const run = aRun({
      options: { code: { name: "churn-code" } },
      code: { name: "churn-code", version: 1, sha256: first.sha256 },
    });

    const pinned = await withPinnedCode(ports, run, SETTINGS);

    expect(second.version).toBe(2);
    expect(pinned).toEqual(run);
  });

  it("refuses code whose framework has no image for the run's instance type, before the run is recorded", async () => {
    const ports = world();
    await register(ports, await packCodeArchive(exampleFiles("sklearn-chain")), "chain");
    const run = aRun({
      options: { code: { name: "chain" }, instanceTypes: { training: "ml.g5.xlarge" } },
    });

    const pinning = withPinnedCode(ports, run, SETTINGS);

    await expect(pinning).rejects.toThrow(InvalidCode);
    await expect(pinning).rejects.toThrow(
      /code chain version 1 cannot run here: .*has no gpu build for ml\.g5\.xlarge/,
    );
  });

  it("pins the version the options name, without calling it the newest", async () => {
    const { ports, first } = await twoVersions();
    const run = aRun({ options: { code: { name: "churn-code", version: 1 } } });

    const pinned = await withPinnedCode(ports, run, SETTINGS);

    expect(pinned.code).toEqual({ name: "churn-code", version: 1, sha256: first.sha256 });
    expect(pinned.notes).toEqual(["your own scripts: code churn-code version 1"]);
  });
});

describe("the quality gate of a user's evaluation.json", () => {
  const evaluation = {
    binary_classification_metrics: {
      accuracy: { value: 0.91, standard_deviation: 0.01 },
      roc_auc: { value: 0.95 },
    },
    regression_metrics: { rmse: { value: 2.5 } },
    notes: "trained on 1000 rows",
  };

  it("passes a higher-is-better metric at its threshold and fails one below it", () => {
    const metric = "binary_classification_metrics.accuracy.value";

    expect(decideUserGate(evaluation, { metric, threshold: 0.91, direction: "higher" })).toEqual({
      metric,
      threshold: 0.91,
      direction: "higher",
      value: 0.91,
      passed: true,
    });
    expect(
      decideUserGate(evaluation, { metric, threshold: 0.92, direction: "higher" }).passed,
    ).toBe(false);
  });

  it("passes a lower-is-better metric at or under its threshold and fails one over it", () => {
    const metric = "regression_metrics.rmse.value";

    expect(decideUserGate(evaluation, { metric, threshold: 2.5, direction: "lower" }).passed).toBe(
      true,
    );
    expect(decideUserGate(evaluation, { metric, threshold: 2.4, direction: "lower" }).passed).toBe(
      false,
    );
  });

  /** The message of the EvaluationInvalid the gate on `metric` throws. */
  function gateRefusal(json: unknown, metric: string): string {
    try {
      decideUserGate(json, { metric, threshold: 0.8, direction: "higher" });
    } catch (error) {
      if (error instanceof EvaluationInvalid) return error.message;
      throw error;
    }
    throw new Error("the gate was decided");
  }

  it("names a path that is not there and the metrics the file has", () => {
    expect(gateRefusal(evaluation, "binary_classification_metrics.f1.value")).toBe(
      "evaluation.json has no number at binary_classification_metrics.f1.value, the metric modeldrop.json gates on; its metrics are accuracy, roc_auc, rmse",
    );
  });

  it("names a path that holds something other than a number, and what it holds", () => {
    expect(gateRefusal(evaluation, "notes")).toBe(
      'evaluation.json has no number at notes, the metric modeldrop.json gates on (it holds "trained on 1000 rows"); its metrics are accuracy, roc_auc, rmse',
    );
  });

  it("says when the file holds no metrics in SageMaker's layout", () => {
    expect(gateRefusal({ accuracy: "high" }, "accuracy")).toBe(
      'evaluation.json has no number at accuracy, the metric modeldrop.json gates on (it holds "high"); it holds no metrics in SageMaker\'s layout',
    );
  });

  it("reads every section's metrics by name, the first section winning a repeated name", () => {
    expect(
      userMetrics({
        ...evaluation,
        multiclass_classification_metrics: { accuracy: { value: 0.5 }, f1: { value: 0.7 } },
      }),
    ).toEqual({ accuracy: 0.91, roc_auc: 0.95, rmse: 2.5, f1: 0.7 });
  });
});
