// The local SageMaker's hosting through the AWS SDK: endpoint configs, endpoints from Creating to
// InService (or Failed with the model code's reason), sagemaker-runtime's InvokeEndpoint on the
// serving process, an update that swaps the model without a failed request and one that rolls
// back, deletion, the state-change events, and endpoints served again after a restart.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  ListEndpointsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { type ClientConfig, startTestCloud } from "./helpers.js";

const bucket = "hosting";
const ROLE = "arn:aws:iam::000000000000:role/modeldrop-sagemaker";
const IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3";

/**
 * A serving script as an SDK user writes one: model_fn reads the model folder, predict_fn
 * scales the rows scikit-learn's default input_fn parsed; "broken" models fail to load.
 */
const SERVE_PY = `
import json, os
def model_fn(model_dir):
    model = json.load(open(os.path.join(model_dir, "model.json")))
    if model.get("broken"):
        raise RuntimeError("model.json says this model is broken")
    return model
def predict_fn(data, model):
    if data.shape[1] != 2:
        raise ValueError(f"expected 2 features, got {data.shape[1]}")
    return data * model["scale"]
`;

let cloud: LocalCloud;
let stateDir: string;
let config: ClientConfig;
let cleanup: () => Promise<void>;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;
let folder: string;

async function upload(key: string, body: Buffer | string): Promise<string> {
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

function tarGz(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(folder, "tar-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  execFileSync("tar", ["-czf", join(dir, "out.tar.gz"), "-C", dir, ...Object.keys(files)]);
  return execFileSync("cat", [join(dir, "out.tar.gz")]);
}

/** A model whose rows come back times `scale` (or one that cannot load), with its config. */
async function model(name: string, contents: Record<string, unknown>): Promise<string> {
  const data = await upload(
    `models/${name}/model.tar.gz`,
    tarGz({ "model.json": JSON.stringify(contents) }),
  );
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: {
        Image: IMAGE,
        ModelDataUrl: data,
        Environment: {
          SAGEMAKER_PROGRAM: "serve.py",
          SAGEMAKER_SUBMIT_DIRECTORY: `s3://${bucket}/code/sourcedir.tar.gz`,
        },
      },
    }),
  );
  const configName = `${name}-config`;
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: configName,
      ProductionVariants: [
        {
          VariantName: "AllTraffic",
          ModelName: name,
          InstanceType: "ml.m5.large",
          InitialInstanceCount: 1,
        },
      ],
    }),
  );
  return configName;
}

async function settled(name: string): Promise<DescribeEndpointCommandOutput> {
  for (;;) {
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (!["Creating", "Updating"].includes(endpoint.EndpointStatus ?? "")) return endpoint;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function invoke(name: string, body: string): Promise<string> {
  const answer = await runtime.send(
    new InvokeEndpointCommand({
      EndpointName: name,
      Body: body,
      ContentType: "text/csv",
      Accept: "application/json",
    }),
  );
  return new TextDecoder().decode(answer.Body);
}

async function gone(name: string): Promise<void> {
  for (;;) {
    const listed = await sagemaker.send(new ListEndpointsCommand({ NameContains: name }));
    if (!listed.Endpoints?.some((e) => e.EndpointName === name)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "modeldrop-hosting-"));
  folder = mkdtempSync(join(tmpdir(), "hosting-files-"));
  ({ cloud, config, cleanup } = await startTestCloud({ stateDir, stopGraceSeconds: 1 }));
  sagemaker = new SageMakerClient(config);
  runtime = new SageMakerRuntimeClient(config);
  await new S3Client({ ...config, forcePathStyle: true }).send(
    new CreateBucketCommand({ Bucket: bucket }),
  );
  await upload("code/sourcedir.tar.gz", tarGz({ "serve.py": SERVE_PY }));
}, 60_000);

afterAll(async () => {
  await cleanup?.();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

describe("local SageMaker endpoints", () => {
  it("goes from Creating to InService and answers InvokeEndpoint from the model's own code", async () => {
    const put = vi.spyOn(cloud.events, "put");
    const configName = await model("doubler", { scale: 2 });
    await sagemaker.send(
      new CreateEndpointCommand({
        EndpointName: "doubler",
        EndpointConfigName: configName,
        Tags: [{ Key: "team", Value: "ml" }],
      }),
    );
    const creating = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: "doubler" }));
    expect(creating.EndpointStatus).toBe("Creating");

    const endpoint = await settled("doubler");
    expect(endpoint.EndpointStatus).toBe("InService");
    expect(endpoint.ProductionVariants?.[0]).toMatchObject({
      VariantName: "AllTraffic",
      CurrentInstanceCount: 1,
      DesiredInstanceCount: 1,
    });
    const answer = await runtime.send(
      new InvokeEndpointCommand({
        EndpointName: "doubler",
        Body: "1,2\n3,4\n",
        ContentType: "text/csv",
        Accept: "application/json",
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(answer.Body))).toEqual([
      [2, 4],
      [6, 8],
    ]);
    expect(answer.ContentType).toBe("application/json");
    expect(answer.InvokedProductionVariant).toBe("AllTraffic");
    const events = put.mock.calls
      .map(([event]) => event)
      .filter((e) => e["detail-type"] === "SageMaker Endpoint State Change");
    expect(events.map((e) => (e.detail as Record<string, unknown>).EndpointStatus)).toEqual([
      "CREATING",
      "IN_SERVICE",
    ]);
    expect(events[0]).toMatchObject({
      source: "aws.sagemaker",
      resources: [endpoint.EndpointArn],
      detail: { EndpointName: "doubler", EndpointConfigName: configName, Tags: { team: "ml" } },
    });
    put.mockRestore();
  }, 60_000);

  it("answers a request the model's code refuses with ModelError, and an unknown endpoint as SageMaker does", async () => {
    const refused = await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: "doubler",
          Body: "1,2,3\n",
          ContentType: "text/csv",
        }),
      )
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({
      name: "ModelError",
      OriginalStatusCode: 500,
      $metadata: { httpStatusCode: 424 },
    });
    expect(String((refused as Error).message)).toMatch(
      /^Received server error \(500\) from primary with message ".*expected 2 features, got 3/s,
    );
    expect((refused as { LogStreamArn?: string }).LogStreamArn).toContain(
      "log-group:/aws/sagemaker/Endpoints/doubler",
    );

    const unknown = await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: "nobody",
          Body: "1,2\n",
          ContentType: "text/csv",
        }),
      )
      .catch((error: unknown) => error);
    expect(unknown).toMatchObject({ name: "ValidationError" });
    expect(String((unknown as Error).message)).toBe(
      `Endpoint nobody of account ${cloud.account} not found.`,
    );

    const tooLarge = await runtime
      .send(
        new InvokeEndpointCommand({
          EndpointName: "doubler",
          Body: "1,2\n".repeat(1_600_000),
          ContentType: "text/csv",
        }),
      )
      .catch((error: unknown) => error);
    expect(tooLarge).toMatchObject({ name: "ValidationError" });
    expect(String((tooLarge as Error).message)).toMatch(/larger than the 6 MB/);
  }, 60_000);

  it("refuses a second endpoint of the same name and a config for a model that does not exist", async () => {
    await expect(
      sagemaker.send(
        new CreateEndpointCommand({
          EndpointName: "doubler",
          EndpointConfigName: "doubler-config",
        }),
      ),
    ).rejects.toThrow(/Cannot create already existing endpoint/);
    await expect(
      sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: "nothing-config",
          ProductionVariants: [
            {
              VariantName: "AllTraffic",
              ModelName: "nothing",
              InstanceType: "ml.m5.large",
              InitialInstanceCount: 1,
            },
          ],
        }),
      ),
    ).rejects.toThrow(/Could not find model/);
  });

  it("updates to a new config with every request answered meanwhile, and rolls back an update whose model fails", async () => {
    const tripler = await model("tripler", { scale: 3 });
    await sagemaker.send(
      new UpdateEndpointCommand({ EndpointName: "doubler", EndpointConfigName: tripler }),
    );
    const answers: string[] = [];
    for (;;) {
      const status = (
        await sagemaker.send(new DescribeEndpointCommand({ EndpointName: "doubler" }))
      ).EndpointStatus;
      answers.push(await invoke("doubler", "1,1\n"));
      if (status !== "Updating") break;
    }
    expect(new Set(answers.map((a) => JSON.stringify(JSON.parse(a)))).size).toBeLessThanOrEqual(2);
    const updated = await settled("doubler");
    expect(updated).toMatchObject({ EndpointStatus: "InService", EndpointConfigName: tripler });
    expect(JSON.parse(await invoke("doubler", "1,1\n"))).toEqual([[3, 3]]);

    const broken = await model("broken", { broken: true });
    await sagemaker.send(
      new UpdateEndpointCommand({ EndpointName: "doubler", EndpointConfigName: broken }),
    );
    const rolledBack = await settled("doubler");
    expect(rolledBack).toMatchObject({ EndpointStatus: "InService", EndpointConfigName: tripler });
    expect(rolledBack.FailureReason).toMatch(
      /update to endpoint config broken-config failed.*model\.json says this model is broken/s,
    );
    expect(JSON.parse(await invoke("doubler", "1,1\n"))).toEqual([[3, 3]]);
  }, 120_000);

  it("fails an endpoint whose model cannot load, with the reason from its code", async () => {
    await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: "never", EndpointConfigName: "broken-config" }),
    );
    const failed = await settled("never");
    expect(failed.EndpointStatus).toBe("Failed");
    expect(failed.FailureReason).toMatch(/model\.json says this model is broken/);
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: "never" }));
    await gone("never");
  }, 60_000);

  it("serves an endpoint again after the local cloud restarts, finishes one whose creation the stop cut short, and deletes it when asked", async () => {
    // Stopped while its process is still starting: it stays Creating, not Failed.
    await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: "late", EndpointConfigName: "tripler-config" }),
    );
    await cleanup();
    ({ cloud, config, cleanup } = await startTestCloud({ stateDir, stopGraceSeconds: 1 }));
    sagemaker = new SageMakerClient(config);
    runtime = new SageMakerRuntimeClient(config);
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: "doubler" }));
    expect(endpoint.EndpointStatus).toBe("InService");
    expect(JSON.parse(await invoke("doubler", "2,2\n"))).toEqual([[6, 6]]);
    expect((await settled("late")).EndpointStatus).toBe("InService");

    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: "doubler" }));
    expect(
      (await sagemaker.send(new DescribeEndpointCommand({ EndpointName: "doubler" })))
        .EndpointStatus,
    ).toBe("Deleting");
    await gone("doubler");
    await expect(
      sagemaker.send(new DescribeEndpointCommand({ EndpointName: "doubler" })),
    ).rejects.toThrow(/Could not find endpoint/);
    await expect(invoke("doubler", "1,1\n")).rejects.toThrow(/Endpoint doubler of account/);
  }, 120_000);
});
