// The endpoint workflows (app/endpoints.ts) and rules (core/endpoints.ts) on in-memory ports:
// what is refused, what each change writes and asks of SageMaker, that SageMaker's events
// (repeated ones too) each record once with one notice, and the sweeper's idle deletion.
import { describe, expect, it } from "vitest";
import {
  createEndpoint,
  deleteEndpoint,
  deployApprovedVersion,
  invokeModel,
  promoteEndpoint,
  recordEndpointChange,
  sweepEndpoints,
} from "../../app/endpoints.js";
import { setDeployOnApproval } from "../../app/models.js";
import { CreateEndpointBody } from "../../core/api.js";
import { endpointName } from "../../core/endpoint-names.js";
import { type EndpointRecord, endpointCost, idleMinutes } from "../../core/endpoints.js";
import type { ModelVersion } from "../../core/registry.js";
import { FakeModels, fakePorts } from "./fakes.js";

const NOW = new Date("2026-11-02T10:30:00Z");

function version(n: number, approval: ModelVersion["approval"] = "Approved"): ModelVersion {
  return {
    modelName: "churn",
    version: n,
    artifact: `s3://data/runs/r${n}/model/model.tar.gz`,
    sageMakerModel: `md-r${n}-model`,
    runId: `r${n}`,
    metrics: { roc_auc: 0.9 },
    approval,
    createdAt: "2026-11-01T00:00:00Z",
  };
}

function world(versions: ModelVersion[] = [version(1), version(2), version(3, "Pending")]) {
  let now = NOW;
  const ports = { ...fakePorts(), models: new FakeModels(versions), now: () => now };
  for (const v of versions)
    ports.hosting.addModel(v.sageMakerModel, {
      image: "sklearn:1.2-1",
      modelDataUrl: v.artifact,
      environment: { SAGEMAKER_PROGRAM: "inference.py" },
    });
  return {
    ports,
    later(minutes: number) {
      now = new Date(now.getTime() + minutes * 60_000);
    },
  };
}

type World = ReturnType<typeof world>;

const SERVERLESS = { mode: "serverless" as const };

async function inService({ ports }: World, request = SERVERLESS): Promise<EndpointRecord> {
  const created = await createEndpoint(ports, { modelName: "churn", request, by: "alice" });
  ports.hosting.finish(created.name);
  const written = await recordEndpointChange(ports, { name: created.name, status: "InService" });
  if (!written) throw new Error("the endpoint did not come into service");
  return written;
}

describe("creating an endpoint", () => {
  it("records it Creating for the newest Approved version, then asks SageMaker for a model, a config and the endpoint", async () => {
    const { ports } = world();
    const created = await createEndpoint(ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "alice",
    });

    expect(created).toMatchObject({
      status: "Creating",
      version: 2,
      name: endpointName("churn", "serverless"),
      settings: { mode: "serverless", memorySizeMb: 2048, maxConcurrency: 5 },
      idleTimeoutMinutes: 60,
      createdBy: "alice",
    });
    expect(ports.hosting.methodsCalled()).toEqual([
      "container",
      "createModel",
      "createEndpointConfig",
      "createEndpoint",
    ]);
    expect(ports.hosting.calls[1]).toMatchObject({
      args: [
        created.configName,
        { modelDataUrl: version(2).artifact },
        { "modeldrop:model": "churn", "modeldrop:version": "2" },
      ],
    });
    expect(await ports.endpoints.current("churn", "serverless")).toEqual(created);
  });

  it("refuses a Pending or Rejected version, a model with none Approved, and an unknown model", async () => {
    const { ports } = world([version(1, "Rejected"), version(2, "Pending")]);
    const create = (v?: number, modelName = "churn") =>
      createEndpoint(ports, { modelName, request: { ...SERVERLESS, version: v }, by: "a" });

    await expect(create(1)).rejects.toMatchObject({ status: 409, code: "version-rejected" });
    await expect(create(2)).rejects.toMatchObject({ status: 409, code: "version-not-approved" });
    await expect(create()).rejects.toMatchObject({ status: 409, code: "no-approved-version" });
    await expect(create(9)).rejects.toMatchObject({ status: 404, code: "model-version-not-found" });
    await expect(create(undefined, "nobody")).rejects.toMatchObject({ code: "model-not-found" });
    expect(ports.hosting.calls).toEqual([]);
  });

  it("refuses a second endpoint of the same model and mode while the first exists, but not one of the other mode", async () => {
    const w = world();
    await inService(w);

    await expect(
      createEndpoint(w.ports, { modelName: "churn", request: SERVERLESS, by: "bob" }),
    ).rejects.toMatchObject({ status: 409, code: "endpoint-exists" });
    const realtime = await createEndpoint(w.ports, {
      modelName: "churn",
      request: { mode: "realtime" },
      by: "bob",
    });
    expect(realtime).toMatchObject({
      name: endpointName("churn", "realtime"),
      settings: { mode: "realtime", instanceType: "ml.m5.large", instanceCount: 1 },
    });
  });

  it("records Failed with SageMaker's reason, and sends its notice, when SageMaker refuses a call", async () => {
    const { ports } = world();
    ports.hosting.failNext("createEndpointConfig", new Error("ResourceLimitExceeded: quota"));

    const failed = await createEndpoint(ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });

    expect(failed).toMatchObject({ status: "Failed" });
    expect(failed.failureReason).toContain("ResourceLimitExceeded: quota");
    expect(ports.notices.published.map((n) => n.subject)).toEqual([
      "modeldrop: churn serverless endpoint failed",
    ]);
  });

  it("makes a new generation after a deletion, keeping the deleted one's record", async () => {
    const w = world();
    const first = await inService(w);
    await deleteEndpoint(w.ports, { modelName: "churn", mode: "serverless", by: "a", reason: "r" });
    await recordEndpointChange(w.ports, { name: first.name, status: "Deleting" });

    const second = await createEndpoint(w.ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "b",
    });

    expect(second.generation).toBe(2);
    expect(second.configName).not.toBe(first.configName);
    expect(w.ports.endpoints.get({ ...first })?.status).toBe("Deleted");
  });
});

describe("what SageMaker says of an endpoint", () => {
  it("records InService once, with one notice, however often the event comes", async () => {
    const { ports } = world();
    const created = await createEndpoint(ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });

    const first = await recordEndpointChange(ports, { name: created.name, status: "InService" });
    const again = await recordEndpointChange(ports, { name: created.name, status: "InService" });

    expect(first).toMatchObject({ status: "InService", inServiceAt: NOW.toISOString() });
    expect(again).toBeUndefined();
    expect(ports.notices.published).toHaveLength(1);
    expect(ports.notices.published[0]?.text).toContain("Serverless: no charge while idle.");
    expect(first?.history.map((h) => h.event)).toEqual(["create-requested", "in-service"]);
  });

  it("records a failed creation with SageMaker's reason", async () => {
    const { ports } = world();
    const created = await createEndpoint(ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });

    const failed = await recordEndpointChange(ports, {
      name: created.name,
      status: "Failed",
      failureReason: "the primary container did not pass the ping health check",
    });

    expect(failed).toMatchObject({
      status: "Failed",
      failureReason: "the primary container did not pass the ping health check",
    });
    expect(ports.notices.published[0]?.text).toContain("did not pass the ping health check");
  });

  it("records a deletion made outside modeldrop as such", async () => {
    const w = world();
    const record = await inService(w);

    const deleted = await recordEndpointChange(w.ports, { name: record.name, status: "Deleting" });

    expect(deleted).toMatchObject({ status: "Deleted", deletion: { by: "SageMaker" } });
    expect(w.ports.notices.published.at(-1)?.text).toContain("deleted outside modeldrop");
  });
});

describe("promoting an endpoint", () => {
  it("updates to another Approved version; the record says so once SageMaker has the new config in service", async () => {
    const w = world([version(1), version(2)]);
    const record = await inService(w, { ...SERVERLESS, version: 1 } as typeof SERVERLESS);

    const updating = await promoteEndpoint(w.ports, {
      modelName: "churn",
      mode: "serverless",
      by: "alice",
    });
    expect(updating).toMatchObject({ status: "Updating", version: 1, updating: { version: 2 } });
    expect(w.ports.hosting.methodsCalled().slice(-4)).toEqual([
      "container",
      "createModel",
      "createEndpointConfig",
      "updateEndpoint",
    ]);
    const target = updating.updating?.configName;
    w.ports.hosting.finish(record.name);

    const promoted = await recordEndpointChange(w.ports, {
      name: record.name,
      status: "InService",
      configName: target,
    });

    expect(promoted).toMatchObject({ status: "InService", version: 2, configName: target });
    expect(promoted?.updating).toBeUndefined();
    // The old deployment's SageMaker model and config are removed.
    expect(w.ports.hosting.calls.at(-1)).toEqual({
      method: "deleteDeployment",
      args: [record.configName],
    });
    expect(w.ports.notices.published.at(-1)?.subject).toBe(
      "modeldrop: churn serverless endpoint now serves version 2",
    );
  });

  it("keeps the old version serving, with the reason, when the update fails", async () => {
    const w = world([version(1), version(2)]);
    const record = await inService(w, { ...SERVERLESS, version: 1 } as typeof SERVERLESS);
    const updating = await promoteEndpoint(w.ports, {
      modelName: "churn",
      mode: "serverless",
      by: "a",
    });

    const kept = await recordEndpointChange(w.ports, {
      name: record.name,
      status: "InService",
      configName: record.configName,
      failureReason: "the new model's container exited",
    });

    expect(kept).toMatchObject({
      status: "InService",
      version: 1,
      failureReason: "the new model's container exited",
    });
    expect(w.ports.hosting.calls.at(-1)).toEqual({
      method: "deleteDeployment",
      args: [updating.updating?.configName],
    });
    expect(w.ports.notices.published.at(-1)?.subject).toBe(
      "modeldrop: churn serverless endpoint update to version 2 failed",
    );
  });

  it("refuses an endpoint that is not InService, the version it already serves, and a Rejected one", async () => {
    const w = world([version(1), version(2, "Rejected")]);
    const created = await createEndpoint(w.ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });
    const promote = (v?: number) =>
      promoteEndpoint(w.ports, { modelName: "churn", mode: "serverless", version: v, by: "a" });

    await expect(promote()).rejects.toMatchObject({ code: "endpoint-not-in-service" });
    w.ports.hosting.finish(created.name);
    await recordEndpointChange(w.ports, { name: created.name, status: "InService" });
    await expect(promote(1)).rejects.toMatchObject({ code: "already-serving" });
    await expect(promote(2)).rejects.toMatchObject({ code: "version-rejected" });
    await expect(
      promoteEndpoint(w.ports, { modelName: "churn", mode: "realtime", by: "a" }),
    ).rejects.toMatchObject({ status: 404, code: "endpoint-not-found" });
  });
});

describe("deploying on approval", () => {
  const approved = (version: number) => ({ modelName: "churn", version, approvedBy: "gate" });
  const deploysOnApproval = (
    w: World,
    request: Parameters<typeof setDeployOnApproval>[1]["request"] = SERVERLESS,
  ) => setDeployOnApproval(w.ports, { name: "churn", request, by: "alice" });

  it("does nothing for a model that does not ask for it", async () => {
    const w = world();
    expect(await deployApprovedVersion(w.ports, approved(2))).toMatchObject({ action: "none" });
    expect(w.ports.hosting.calls).toEqual([]);
    expect(w.ports.notices.published).toEqual([]);
  });

  it("creates the endpoint with the model's settings when it has none, saying who approved what", async () => {
    const w = world();
    await deploysOnApproval(w, { mode: "realtime", instanceCount: 2, idleTimeoutMinutes: 0 });

    const outcome = await deployApprovedVersion(w.ports, approved(2));

    expect(outcome).toEqual({ action: "create", endpoint: endpointName("churn", "realtime") });
    expect(await w.ports.endpoints.current("churn", "realtime")).toMatchObject({
      status: "Creating",
      version: 2,
      settings: { mode: "realtime", instanceType: "ml.m5.large", instanceCount: 2 },
      idleTimeoutMinutes: 0,
      createdBy: "deploy-on-approval (version 2 approved by gate)",
    });
  });

  it("promotes an endpoint in service to the newly approved version", async () => {
    const w = world([version(1), version(2, "Pending")]);
    await deploysOnApproval(w);
    await inService(w);
    await w.ports.models.setApproval(version(2, "Pending"), {
      approval: "Approved",
      decidedBy: "bob",
      decidedAt: NOW.toISOString(),
    });

    const outcome = await deployApprovedVersion(w.ports, { ...approved(2), approvedBy: "bob" });

    expect(outcome).toMatchObject({ action: "promote", from: 1 });
    expect(await w.ports.endpoints.current("churn", "serverless")).toMatchObject({
      status: "Updating",
      version: 1,
      updating: { version: 2 },
    });
  });

  it("leaves alone an approval that is not the newest, and a repeated one", async () => {
    const w = world();
    await deploysOnApproval(w);
    expect(await deployApprovedVersion(w.ports, approved(1))).toMatchObject({
      action: "none",
      why: "version 1 is not the newest Approved version (that is 2)",
    });
    await deployApprovedVersion(w.ports, approved(2));
    const calls = w.ports.hosting.calls.length;

    expect(await deployApprovedVersion(w.ports, approved(2))).toMatchObject({
      action: "none",
      why: "the serverless endpoint already serves version 2 (Creating)",
    });
    expect(w.ports.hosting.calls).toHaveLength(calls);
    expect(w.ports.notices.published).toEqual([]);
  });

  it("tells the user, once, when the endpoint cannot take the version now", async () => {
    const w = world([version(1), version(2)]);
    await deploysOnApproval(w);
    const created = await createEndpoint(w.ports, {
      modelName: "churn",
      request: { ...SERVERLESS, version: 1 } as typeof SERVERLESS,
      by: "alice",
    });
    await recordEndpointChange(w.ports, {
      name: created.name,
      status: "Failed",
      failureReason: "the container exited",
    });

    const outcome = await deployApprovedVersion(w.ports, approved(2));

    expect(outcome).toMatchObject({ action: "skip" });
    expect(w.ports.notices.published.map((n) => n.subject)).toContain(
      "modeldrop: churn serverless endpoint not updated to version 2",
    );
    expect(w.ports.notices.published.at(-1)?.text).toContain("Failed (the container exited)");
  });
});

describe("deleting an endpoint", () => {
  it("records who and why, asks SageMaker, and ends Deleted with what it cost", async () => {
    const w = world();
    const record = await inService(w, { mode: "realtime" } as never);
    w.later(90);

    const deleting = await deleteEndpoint(w.ports, {
      modelName: "churn",
      mode: "realtime",
      by: "alice",
      reason: "done with the demo",
    });
    expect(deleting).toMatchObject({ status: "Deleting", deletion: { by: "alice" } });
    const deleted = await recordEndpointChange(w.ports, { name: record.name, status: "Deleting" });

    expect(deleted).toMatchObject({ status: "Deleted" });
    // 90 minutes of one ml.m5.large at $0.115 an hour.
    expect(endpointCost(deleted as EndpointRecord, new Date()).usd).toBeCloseTo(0.1725, 6);
    expect(w.ports.notices.published.at(-1)?.text).toMatch(
      /deleted: done with the demo \(by alice\)[\s\S]*cost \$0\.17/,
    );
  });

  it("refuses one already deleted or being deleted, and one that never existed", async () => {
    const w = world();
    const record = await inService(w);
    const remove = () =>
      deleteEndpoint(w.ports, { modelName: "churn", mode: "serverless", by: "a", reason: "r" });

    await remove();
    await expect(remove()).rejects.toMatchObject({ code: "endpoint-deleting" });
    await recordEndpointChange(w.ports, { name: record.name, status: "Deleting" });
    await expect(remove()).rejects.toMatchObject({ status: 409, code: "endpoint-deleted" });
    await expect(
      deleteEndpoint(w.ports, { modelName: "churn", mode: "realtime", by: "a", reason: "r" }),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe("invoking a model", () => {
  it("sends the body to the endpoint in service and counts the invocation", async () => {
    const w = world();
    const record = await inService(w);
    w.ports.hosting.answerInvocations({
      ok: true,
      body: Buffer.from('{"prediction":"yes"}\n'),
      contentType: "application/jsonlines",
    });

    const answer = await invokeModel(w.ports, {
      modelName: "churn",
      body: Buffer.from("a,b\n1,2\n"),
      contentType: "text/csv",
      accept: "application/jsonlines",
    });

    expect(answer.body.toString()).toBe('{"prediction":"yes"}\n');
    expect(answer.endpoint.name).toBe(record.name);
    const counted = await w.ports.endpoints.current("churn", "serverless");
    expect(counted).toMatchObject({ invocations: 1, lastInvokedAt: NOW.toISOString() });
  });

  it("answers rows the model refuses with a 400 in its words, its code's failure with a 502, and an endpoint not in service with a 409", async () => {
    const w = world();
    const created = await createEndpoint(w.ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });
    const invoke = () =>
      invokeModel(w.ports, {
        modelName: "churn",
        body: Buffer.from("x\n1\n"),
        contentType: "text/csv",
        accept: "application/jsonlines",
      });

    await expect(invoke()).rejects.toMatchObject({ status: 409, code: "endpoint-not-in-service" });
    w.ports.hosting.finish(created.name);
    await recordEndpointChange(w.ports, { name: created.name, status: "InService" });
    w.ports.hosting.answerInvocations({
      ok: false,
      status: 400,
      message: "missing columns: tenure",
    });
    await expect(invoke()).rejects.toMatchObject({
      status: 400,
      field: "body",
      message: expect.stringContaining("missing columns: tenure"),
    });
    w.ports.hosting.answerInvocations({ ok: false, status: 500, message: "KeyError: 'price'" });
    await expect(invoke()).rejects.toMatchObject({ status: 502, code: "model-error" });
    await expect(
      invokeModel(w.ports, {
        modelName: "churn",
        mode: "realtime",
        body: Buffer.from("x"),
        contentType: "text/csv",
        accept: "application/jsonlines",
      }),
    ).rejects.toMatchObject({ status: 404, code: "endpoint-not-found" });
  });

  it("refuses a body over SageMaker's limit for the endpoint's mode", async () => {
    const w = world();
    await inService(w);

    await expect(
      invokeModel(w.ports, {
        modelName: "churn",
        body: Buffer.alloc(4 * 1024 * 1024 + 1),
        contentType: "text/csv",
        accept: "application/jsonlines",
      }),
    ).rejects.toMatchObject({ status: 413 });
  });
});

describe("the sweeper", () => {
  it("deletes an endpoint idle for its timeout, once, and leaves a busy or never-idle one", async () => {
    const w = world();
    const idle = await inService(w);
    const never = await createEndpoint(w.ports, {
      modelName: "churn",
      request: { mode: "realtime", idleTimeoutMinutes: 0 },
      by: "a",
    });
    w.ports.hosting.finish(never.name);
    await recordEndpointChange(w.ports, { name: never.name, status: "InService" });
    w.later(59);
    expect((await sweepEndpoints(w.ports)).deleted).toEqual([]);
    w.later(2);

    const swept = await sweepEndpoints(w.ports);
    await recordEndpointChange(w.ports, { name: idle.name, status: "Deleting" });

    expect(swept.deleted).toEqual([idle.name]);
    const deleted = await w.ports.endpoints.current("churn", "serverless");
    expect(deleted).toMatchObject({
      status: "Deleted",
      deletion: { by: "idle-timeout", reason: expect.stringContaining("for 61 minutes") },
    });
    expect((await w.ports.endpoints.current("churn", "realtime"))?.status).toBe("InService");
    expect(w.ports.notices.published.at(-1)?.text).toContain("no invocation through modeldrop");
    expect((await sweepEndpoints(w.ports)).deleted).toEqual([]);
  });

  it("brings a record whose event was missed to what SageMaker says, and fails one SageMaker never made", async () => {
    const w = world();
    const created = await createEndpoint(w.ports, {
      modelName: "churn",
      request: SERVERLESS,
      by: "a",
    });
    const orphan = await createEndpoint(w.ports, {
      modelName: "churn",
      request: { mode: "realtime" },
      by: "a",
    });
    w.ports.hosting.finish(created.name);
    w.ports.hosting.setEndpoint(orphan.name, { status: "Deleted" });
    w.later(5);

    const swept = await sweepEndpoints(w.ports);

    expect(swept.reconciled.sort()).toEqual([created.name, orphan.name].sort());
    expect((await w.ports.endpoints.current("churn", "serverless"))?.status).toBe("InService");
    const failed = await w.ports.endpoints.current("churn", "realtime");
    expect(failed).toMatchObject({ status: "Failed" });
    expect(failed?.failureReason).toContain("creation was interrupted");
  });
});

describe("the rules", () => {
  it("name endpoints within SageMaker's limits, apart for names with the same slug", () => {
    const long = endpointName("a".repeat(63), "realtime");
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toMatch(/^md-ep-a+-[0-9a-f]{6}-rt$/);
    expect(endpointName("Churn", "serverless")).not.toBe(endpointName("churn", "serverless"));
  });

  it("count idle time from the last invocation, never for a timeout of 0", () => {
    const record = {
      status: "InService",
      idleTimeoutMinutes: 30,
      createdAt: "2026-11-02T09:00:00Z",
      inServiceAt: "2026-11-02T09:05:00Z",
      lastInvokedAt: "2026-11-02T10:10:00Z",
    } as EndpointRecord;
    expect(idleMinutes(record, NOW)).toBeUndefined();
    expect(idleMinutes(record, new Date("2026-11-02T10:41:00Z"))).toBe(31);
    expect(
      idleMinutes({ ...record, idleTimeoutMinutes: 0 }, new Date("2027-01-01")),
    ).toBeUndefined();
  });

  it("refuse settings of the other mode and an instance type without a price, naming the field", () => {
    const wrong = CreateEndpointBody.safeParse({ mode: "serverless", instanceType: "ml.m5.large" });
    const unknown = CreateEndpointBody.safeParse({ mode: "realtime", instanceType: "ml.x9.huge" });
    const memory = CreateEndpointBody.safeParse({ memorySizeMb: 1500 });

    expect(wrong.error?.issues[0]).toMatchObject({ path: ["instanceType"] });
    expect(wrong.error?.issues[0]?.message).toContain("is for realtime endpoints");
    expect(unknown.error?.issues[0]).toMatchObject({ path: ["instanceType"] });
    expect(unknown.error?.issues[0]?.message).toContain("ml.m5.large");
    expect(memory.error?.issues[0]).toMatchObject({ path: ["memorySizeMb"] });
    expect(CreateEndpointBody.parse({})).toEqual({ mode: "serverless" });
  });
});
