// Endpoint benchmark: what sagemaker-runtime InvokeEndpoint on the local cloud costs on top of
// the model's own serving handlers.
//
//   npm run bench:endpoints
//
// bench/endpoint_model.py trains a model with modeldrop's jobs on a generated mixed-type table
// and times its serving handlers (input_fn → predict_fn → output_fn) in-process for 1 and 100
// CSV rows. This script then serves the same model.tar.gz on a local cloud endpoint (one serving
// process, modeldrop_ml/serve.py) and invokes it through the AWS SDK's SageMakerRuntimeClient,
// one request at a time for the latencies, and from 4 clients at once for the throughput. Target
// (issue 17): p50 under 20 ms for 1 row. The ratios to in-process are recorded alongside.
// Figures go to bench/results/endpoints.{json,md}.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { startLocalCloud } from "../local/cloud.js";
import { median, percentile, round } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const PYTHON = resolve(ROOT, ".venv", "bin", "python");
const RESULTS = resolve(ROOT, "bench", "results");
const TARGET_P50_MS = 20;
const SAMPLES: Record<string, number> = { "1": 300, "100": 100 };
const CLIENTS = 4;
const PER_CLIENT = 100;
const BUCKET = "bench";
const NAME = "bench-endpoint";

interface ModelOutput {
  model: string;
  requests: Record<string, string>;
  inProcess: Record<string, { p50_ms: number; p95_ms: number }>;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "modeldrop-bench-endpoints-"));
  console.log("training the model and timing its handlers in-process…");
  const trained = JSON.parse(
    execFileSync(PYTHON, [join(ROOT, "bench", "endpoint_model.py"), "--out", work], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 ** 2,
    })
      .trim()
      .split("\n")
      .at(-1) ?? "{}",
  ) as ModelOutput;
  const cloud = await startLocalCloud({ stateDir: join(work, "state") });
  try {
    const config = {
      endpoint: cloud.endpoint,
      region: cloud.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "model/model.tar.gz",
        Body: readFileSync(trained.model),
      }),
    );
    const sagemaker = new SageMakerClient(config);
    await sagemaker.send(
      new CreateModelCommand({
        ModelName: NAME,
        ExecutionRoleArn: `arn:aws:iam::${cloud.account}:role/bench`,
        PrimaryContainer: {
          Image:
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
          ModelDataUrl: `s3://${BUCKET}/model/model.tar.gz`,
        },
      }),
    );
    await sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: NAME,
        ProductionVariants: [
          {
            VariantName: "AllTraffic",
            ModelName: NAME,
            InstanceType: "ml.m5.large",
            InitialInstanceCount: 1,
          },
        ],
      }),
    );
    const created = Date.now();
    await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: NAME, EndpointConfigName: NAME }),
    );
    for (;;) {
      const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: NAME }));
      if (described.EndpointStatus === "InService") break;
      if (described.EndpointStatus !== "Creating")
        throw new Error(`the endpoint is ${described.EndpointStatus}: ${described.FailureReason}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    const startupS = (Date.now() - created) / 1000;
    const runtime = new SageMakerRuntimeClient(config);
    const invoke = async (body: Buffer): Promise<number> => {
      const started = performance.now();
      await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: NAME,
          Body: body,
          ContentType: "text/csv",
          Accept: "application/jsonlines",
        }),
      );
      return performance.now() - started;
    };

    const latency: Record<string, { p50_ms: number; p95_ms: number }> = {};
    for (const [rows, path] of Object.entries(trained.requests)) {
      const body = readFileSync(path);
      for (let i = 0; i < 20; i += 1) await invoke(body);
      const times: number[] = [];
      for (let i = 0; i < (SAMPLES[rows] ?? 100); i += 1) times.push(await invoke(body));
      latency[rows] = {
        p50_ms: round(median(times), 2),
        p95_ms: round(percentile(times, 95), 2),
      };
      console.log(`${rows} row(s): p50 ${latency[rows].p50_ms} ms, p95 ${latency[rows].p95_ms} ms`);
    }

    const one = readFileSync(trained.requests["1"] ?? "");
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < PER_CLIENT; i += 1) await invoke(one);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const throughput = round((CLIENTS * PER_CLIENT) / seconds, 1);

    const ratio = (rows: string) =>
      round((latency[rows]?.p50_ms ?? Number.NaN) / (trained.inProcess[rows]?.p50_ms ?? 1), 2);
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown" },
      startupSeconds: round(startupS, 2),
      invoke: latency,
      inProcess: trained.inProcess,
      ratioToInProcess: { "1": ratio("1"), "100": ratio("100") },
      throughput: { clients: CLIENTS, requests: CLIENTS * PER_CLIENT, perSecond: throughput },
      target: {
        p50OneRowMs: TARGET_P50_MS,
        met: (latency["1"]?.p50_ms ?? Infinity) < TARGET_P50_MS,
      },
    };
    writeFileSync(join(RESULTS, "endpoints.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(RESULTS, "endpoints.md"), markdown(result));
    console.log(markdown(result));
    if (!result.target.met) process.exitCode = 1;
  } finally {
    await cloud.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(r: {
  date: string;
  machine: { cpus: number; model: string };
  startupSeconds: number;
  invoke: Record<string, { p50_ms: number; p95_ms: number }>;
  inProcess: Record<string, { p50_ms: number; p95_ms: number }>;
  ratioToInProcess: Record<string, number>;
  throughput: { clients: number; requests: number; perSecond: number };
  target: { p50OneRowMs: number; met: boolean };
}): string {
  const row = (rows: string) =>
    `| ${rows} | ${r.invoke[rows]?.p50_ms} | ${r.invoke[rows]?.p95_ms} | ${r.inProcess[rows]?.p50_ms} | ${r.inProcess[rows]?.p95_ms} | ${r.ratioToInProcess[rows]} |`;
  return [
    "# Endpoints: InvokeEndpoint on the local cloud",
    "",
    `${r.date}, ${r.machine.cpus} CPUs (${r.machine.model}). \`npm run bench:endpoints\`.`,
    "",
    "A model trained by modeldrop's jobs (fast preset, 4,000 generated mixed-type rows), served by one serving process (modeldrop_ml/serve.py); requests are CSV with a header, through the AWS SDK's SageMakerRuntimeClient. In-process: the same serving handlers called in one Python process.",
    "",
    "| rows | invoke p50 ms | invoke p95 ms | in-process p50 ms | in-process p95 ms | p50 ratio |",
    "| --- | --- | --- | --- | --- | --- |",
    row("1"),
    row("100"),
    "",
    `Throughput, ${r.throughput.clients} clients at once, 1 row each: ${r.throughput.perSecond} requests/s (${r.throughput.requests} requests; the serving process answers one at a time, as one toolkit worker does).`,
    "",
    `Endpoint creation to InService: ${r.startupSeconds} s. Target: 1-row p50 under ${r.target.p50OneRowMs} ms — ${r.target.met ? "met" : "NOT met"}.`,
    "",
  ].join("\n");
}

await main();
