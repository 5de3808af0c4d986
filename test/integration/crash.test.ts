// Fault test: `modeldrop up` is killed with SIGKILL during a burst of drops and again during a
// training job, and restarted on the same state folder each time. Afterwards every dropped
// object version has exactly one run, ended, with exactly one notice, and no job outlived the
// process that started it.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ListTrainingJobsCommand, SageMakerClient } from "@aws-sdk/client-sagemaker";
import { afterAll, describe, expect, inject, it } from "vitest";
import { churnCsv } from "./datasets.js";
import { processesUnder, startUp, type UpProcess } from "./up-process.js";

const started: UpProcess[] = [];
afterAll(async () => {
  for (const up of started) await up.crash();
});

interface ListedRun {
  id: string;
  status: string;
  dataset: { key: string; versionId: string };
}

const TERMINAL = new Set(["SUCCEEDED", "BELOW_THRESHOLD", "FAILED", "STOPPED"]);

describe("a local cloud killed with SIGKILL", () => {
  it("loses no drop: one ended run and one notice per dropped version, and no job survives it", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-crash-"));
    const args = [
      ...["--port", "0", "--api-port", "0", "--state-dir", stateDir],
      ...["--inbox", join(stateDir, "inbox"), "--stack", inject("packagedStack")],
    ];
    const start = async () => {
      const up = await startUp(args);
      started.push(up);
      const config = {
        endpoint: up.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      };
      const bucket = up.lines
        .map((line) => /→ s3:\/\/([^/]+)\/inbox\//.exec(line)?.[1])
        .find(Boolean);
      if (!bucket || !up.apiEndpoint) throw new Error(`unexpected start: ${up.lines.join("\n")}`);
      return { up, config, bucket, api: up.apiEndpoint };
    };

    // A burst of drops (two versions of one key among them), then SIGKILL at once.
    const first = await start();
    const s3 = new S3Client({ ...first.config, forcePathStyle: true });
    const dropped: { key: string; versionId: string }[] = [];
    const drop = async (key: string, seed: number) => {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: first.bucket,
          Key: key,
          Body: churnCsv(60, seed),
          ContentType: "text/csv",
        }),
      );
      dropped.push({ key, versionId: put.VersionId ?? "null" });
    };
    await Promise.all([
      drop("inbox/burst-a.csv", 1),
      drop("inbox/burst-b.csv", 2),
      drop("inbox/burst-c.csv", 3),
    ]);
    await drop("inbox/burst-a.csv", 4);
    await first.up.crash();
    expect(await processesUnder(stateDir)).toEqual([]);

    // Restarted, the drops are delivered; SIGKILL again while a training job runs.
    const second = await start();
    const sagemaker = new SageMakerClient(second.config);
    for (let waited = 0; ; waited += 200) {
      const running = await sagemaker.send(
        new ListTrainingJobsCommand({ StatusEquals: "InProgress" }),
      );
      if ((running.TrainingJobSummaries ?? []).length > 0) break;
      if (waited > 120_000) throw new Error("no training job started after the restart");
      await new Promise((r) => setTimeout(r, 200));
    }
    await second.up.crash();
    expect(await processesUnder(stateDir)).toEqual([]);

    // Restarted again: everything ends, exactly once, and a new drop trains to the end.
    const third = await start();
    await new S3Client({ ...third.config, forcePathStyle: true }).send(
      new PutObjectCommand({
        Bucket: third.bucket,
        Key: "inbox/after.csv",
        Body: churnCsv(80, 5),
        ContentType: "text/csv",
      }),
    );
    const token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
    const listRuns = async (): Promise<ListedRun[]> => {
      const response = await fetch(`${third.api}/runs?limit=100`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { runs: ListedRun[] };
      return body.runs;
    };
    const outbox = join(stateDir, "outbox");
    const emailsOf = (runId: string) =>
      readdirSync(outbox, { withFileTypes: true })
        .filter((f) => f.isFile() && f.name.endsWith(".eml"))
        .map((f) => readFileSync(join(outbox, f.name), "utf8"))
        .filter((text) => text.includes(`Run ${runId}:`));
    const noticesOf = (runId: string) => emailsOf(runId).length;
    let runs: ListedRun[] = [];
    for (let waited = 0; ; waited += 1000) {
      runs = await listRuns();
      const ended = runs.filter((r) => TERMINAL.has(r.status));
      if (
        runs.length > dropped.length &&
        ended.length === runs.length &&
        runs.every((r) => noticesOf(r.id) > 0)
      )
        break;
      if (waited > 300_000)
        throw new Error(`runs did not all end: ${JSON.stringify(runs.map((r) => r.status))}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // A late duplicate would show up now.
    await new Promise((r) => setTimeout(r, 2000));

    const byVersion = (list: { key: string; versionId: string }[]) =>
      list.map((d) => `${d.key}@${d.versionId}`).sort();
    const all = await listRuns();
    const after = all.filter((r) => r.dataset.key === "inbox/after.csv");
    const final = all.filter((r) => r.dataset.key !== "inbox/after.csv");
    expect(after.map((r) => r.status)).toEqual(["SUCCEEDED"]);
    expect(byVersion(final.map((r) => r.dataset))).toEqual(byVersion(dropped));
    expect(final.filter((r) => !TERMINAL.has(r.status))).toEqual([]);
    expect(Object.fromEntries(final.map((r) => [r.id, noticesOf(r.id)]))).toEqual(
      Object.fromEntries(final.map((r) => [r.id, 1])),
    );
    // What the second crash interrupted failed saying so, with its report and the job's log.
    const failed = final.filter((r) => r.status === "FAILED");
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const run of failed) {
      const [email = ""] = emailsOf(run.id);
      expect(email).toContain("Reason: local cloud restarted");
      expect(email).toContain(`Report: s3://${third.bucket}/runs/${run.id}/report/index.html`);
      expect(email).toMatch(
        /Log: CloudWatch Logs group \/aws\/sagemaker\/\w+Jobs, streams starting md-/,
      );
    }
    await third.up.crash();
    expect(await processesUnder(stateDir)).toEqual([]);
  }, 600_000);
});
