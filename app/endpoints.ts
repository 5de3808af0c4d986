/**
 * Endpoints: create one for a registered version, promote it to another, delete it (or have it
 * deleted when idle), invoke it, and record what SageMaker says of it. Every change is written
 * to the Endpoints table first, conditionally on the status it was read with, then asked of
 * SageMaker; SageMaker's "Endpoint State Change" events (and the sweeper, for any event missed)
 * bring the record to what happened, and each change that took sends one notice.
 */
import { deploymentName, endpointName } from "../core/endpoint-names.js";
import {
  type ApprovalDeployment,
  approvalSkippedNotice,
  DEFAULT_IDLE_MINUTES,
  deploymentOnApproval,
  type EndpointEvent,
  type EndpointMode,
  type EndpointRecord,
  type EndpointRequest,
  type EndpointState,
  type EndpointStatus,
  endpointNotice,
  exists,
  idleMinutes,
  PAYLOAD_LIMIT_BYTES,
  refuseSecond,
  settingsFor,
  type VersionApproved,
  versionForEndpoint,
  withEvent,
} from "../core/endpoints.js";
import { Conflict, InvalidRequest, ModelFailed, NotFound, TooLarge } from "../core/errors.js";
import type { ModelVersion } from "../core/registry.js";
import type { EndpointKey, Ports } from "./ports.js";

type EndpointPorts = Pick<Ports, "endpoints" | "hosting" | "models" | "notices" | "log" | "now">;

/** A record whose status has not moved for this long is checked against SageMaker by the sweeper. */
const STALE_MS = 2 * 60_000;
/** Which endpoint an invocation without a mode goes to, when a model has both. */
const INVOKE_ORDER: EndpointMode[] = ["realtime", "serverless"];

function keyOf(record: EndpointRecord): EndpointKey {
  return { modelName: record.modelName, mode: record.mode, generation: record.generation };
}

function tags(record: EndpointRecord, version: number): Record<string, string> {
  return {
    "modeldrop:model": record.modelName,
    "modeldrop:mode": record.mode,
    "modeldrop:version": String(version),
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function servable(ports: EndpointPorts, modelName: string, version?: number) {
  const versions = await ports.models.versions(modelName);
  if (versions.length === 0)
    throw new NotFound("model", `no model named ${modelName} is registered`);
  return versionForEndpoint(modelName, versions, version);
}

/** The model's endpoint of this mode as it is now (any generation still existing), or NotFound. */
async function existing(
  ports: Pick<Ports, "endpoints">,
  modelName: string,
  mode: EndpointMode,
): Promise<EndpointRecord> {
  const record = await ports.endpoints.current(modelName, mode);
  if (!record)
    throw new NotFound("endpoint", `model ${modelName} has no ${mode} endpoint; create one first`);
  return record;
}

/** One deployment: a SageMaker model of the version's container, and an endpoint config for it. */
async function deploy(
  ports: EndpointPorts,
  record: EndpointRecord,
  version: ModelVersion,
  name: string,
): Promise<void> {
  const container = await ports.hosting.container(version.sageMakerModel);
  await ports.hosting.createModel(name, container, tags(record, version.version));
  await ports.hosting.createEndpointConfig(
    name,
    name,
    record.settings,
    tags(record, version.version),
  );
}

/** Sends the change's notice; a notice that cannot go out is logged, never undoes the change. */
async function notify(ports: EndpointPorts, record: EndpointRecord, event: EndpointEvent) {
  try {
    await ports.notices.publish(endpointNotice(record, event, ports.now()));
  } catch (error) {
    ports.log.error("the endpoint's notice could not be published", {
      endpoint: record.name,
      event: event.event,
      error,
    });
  }
}

/** Writes a change conditionally on `from`; the change's notice when it took. */
async function change(
  ports: EndpointPorts,
  record: EndpointRecord,
  from: readonly EndpointStatus[],
  fields: Partial<EndpointRecord>,
  event: EndpointEvent,
  noticed = true,
): Promise<EndpointRecord | undefined> {
  const written = await ports.endpoints.update(
    keyOf(record),
    { ...fields, updatedAt: event.at, history: withEvent(record, event) },
    from,
  );
  if (written && noticed) await notify(ports, written, event);
  return written;
}

/**
 * POST /models/{name}/endpoints: an endpoint for the named version or the newest Approved one.
 * The record is Creating before SageMaker is asked; a SageMaker call that fails leaves it Failed
 * with the reason (and its notice), never half-made without a record.
 */
export async function createEndpoint(
  ports: EndpointPorts,
  args: { modelName: string; request: EndpointRequest; by: string },
): Promise<EndpointRecord> {
  const { modelName, request } = args;
  const version = await servable(ports, modelName, request.version);
  const current = await ports.endpoints.current(modelName, request.mode);
  refuseSecond(current);
  const now = ports.now().toISOString();
  const name = endpointName(modelName, request.mode);
  const generation = (current?.generation ?? 0) + 1;
  const configName = deploymentName({ name, generation }, 1);
  const record: EndpointRecord = {
    modelName,
    mode: request.mode,
    generation,
    name,
    status: "Creating",
    version: version.version,
    settings: settingsFor(request),
    idleTimeoutMinutes: request.idleTimeoutMinutes ?? DEFAULT_IDLE_MINUTES,
    configName,
    deployments: 1,
    createdAt: now,
    createdBy: args.by,
    updatedAt: now,
    invocations: 0,
    servedSeconds: 0,
    bytesProcessed: 0,
    history: [{ at: now, event: "create-requested", version: version.version, by: args.by }],
  };
  if (!(await ports.endpoints.create(record)))
    throw new Conflict(
      "endpoint-exists",
      `model ${modelName} got a ${request.mode} endpoint from another request just now`,
    );
  try {
    await deploy(ports, record, version, configName);
    await ports.hosting.createEndpoint(name, configName, tags(record, version.version));
  } catch (error) {
    const at = ports.now().toISOString();
    const reason = `SageMaker refused to create it: ${reasonOf(error)}`;
    const failed = await change(
      ports,
      record,
      ["Creating"],
      { status: "Failed", failureReason: reason },
      { at, event: "failed", version: version.version, detail: reason },
    );
    return failed ?? record;
  }
  return record;
}

/**
 * POST /models/{name}/endpoints/{mode}/promote: the endpoint serves another Approved version
 * (a newer one, or an older one to roll back), through SageMaker's UpdateEndpoint, which keeps
 * the old version serving until the new one is in service.
 */
export async function promoteEndpoint(
  ports: EndpointPorts,
  args: { modelName: string; mode: EndpointMode; version?: number | undefined; by: string },
): Promise<EndpointRecord> {
  const record = await existing(ports, args.modelName, args.mode);
  if (record.status !== "InService")
    throw new Conflict(
      "endpoint-not-in-service",
      `the ${args.mode} endpoint of ${args.modelName} is ${record.status}; only an InService endpoint can be promoted`,
    );
  const version = await servable(ports, args.modelName, args.version);
  if (version.version === record.version)
    throw new Conflict(
      "already-serving",
      `the ${args.mode} endpoint of ${args.modelName} already serves version ${version.version}`,
    );
  const deployments = record.deployments + 1;
  const configName = deploymentName(record, deployments);
  const at = ports.now().toISOString();
  const updating = await change(
    ports,
    record,
    ["InService"],
    { status: "Updating", updating: { version: version.version, configName }, deployments },
    { at, event: "promote-requested", version: version.version, by: args.by },
    false,
  );
  if (!updating)
    throw new Conflict(
      "endpoint-not-in-service",
      `the ${args.mode} endpoint of ${args.modelName} changed while it was being promoted; look again`,
    );
  try {
    await deploy(ports, updating, version, configName);
    await ports.hosting.updateEndpoint(record.name, configName);
  } catch (error) {
    const reason = `SageMaker refused the update: ${reasonOf(error)}`;
    const reverted = await change(
      ports,
      updating,
      ["Updating"],
      { status: "InService", updating: undefined, failureReason: reason },
      {
        at: ports.now().toISOString(),
        event: "promotion-failed",
        version: version.version,
        detail: reason,
      },
    );
    await ports.hosting.deleteDeployment(configName).catch(() => undefined);
    return reverted ?? updating;
  }
  return updating;
}

/**
 * DELETE /models/{name}/endpoints/{mode}, and the sweeper's idle deletion: recorded as asked
 * (who and why), then SageMaker's DeleteEndpoint. The record becomes Deleted, with what the
 * endpoint cost, when SageMaker says it is being deleted (or has no such endpoint).
 */
export async function deleteEndpoint(
  ports: EndpointPorts,
  args: { modelName: string; mode: EndpointMode; by: string; reason: string },
): Promise<EndpointRecord> {
  const record = await existing(ports, args.modelName, args.mode);
  if (record.status === "Deleted")
    throw new Conflict(
      "endpoint-deleted",
      `the ${args.mode} endpoint of ${args.modelName} was deleted at ${record.deletedAt ?? record.updatedAt}`,
    );
  if (record.status === "Deleting")
    throw new Conflict(
      "endpoint-deleting",
      `the ${args.mode} endpoint of ${args.modelName} is already being deleted`,
    );
  const deleting = await change(
    ports,
    record,
    [record.status],
    { status: "Deleting", deletion: { by: args.by, reason: args.reason } },
    { at: ports.now().toISOString(), event: "delete-requested", by: args.by, detail: args.reason },
    false,
  );
  if (!deleting)
    throw new Conflict(
      "endpoint-changed",
      `the ${args.mode} endpoint of ${args.modelName} changed while it was being deleted; look again`,
    );
  try {
    await ports.hosting.deleteEndpoint(record.name);
  } catch (error) {
    await ports.endpoints.update(
      keyOf(deleting),
      { status: record.status, deletion: undefined, updatedAt: ports.now().toISOString() },
      ["Deleting"],
    );
    throw error;
  }
  const state = await ports.hosting.describeEndpoint(record.name);
  if (state.status === "Deleted") return (await recordEndpointChange(ports, state)) ?? deleting;
  return deleting;
}

/**
 * Deploy-on-approval: a version became Approved (the "Model Version Approved" event). When the
 * model deploys on approval and the version is its newest Approved one, it is served with the
 * model's settings: a new endpoint when there is none, a promotion of an InService one. What
 * cannot be done now (the endpoint is busy or Failed) is told in one notice. A repeated event,
 * or one that lost a race with another, changes nothing.
 */
export async function deployApprovedVersion(
  ports: EndpointPorts,
  approved: VersionApproved,
): Promise<ApprovalDeployment & { endpoint?: string }> {
  const { modelName, version } = approved;
  const setting = await ports.models.deployOnApproval(modelName);
  if (!setting) return { action: "none", why: `model ${modelName} does not deploy on approval` };
  const current = await ports.endpoints.current(modelName, setting.mode);
  const plan = deploymentOnApproval(version, await ports.models.versions(modelName), current);
  const by = `deploy-on-approval (version ${version} approved by ${approved.approvedBy})`;
  try {
    if (plan.action === "create") {
      const request: EndpointRequest = {
        ...setting.settings,
        idleTimeoutMinutes: setting.idleTimeoutMinutes,
        version,
      };
      const created = await createEndpoint(ports, { modelName, request, by });
      return { ...plan, endpoint: created.name };
    }
    if (plan.action === "promote") {
      const promoted = await promoteEndpoint(ports, { modelName, mode: setting.mode, version, by });
      return { ...plan, endpoint: promoted.name };
    }
  } catch (error) {
    // Another delivery of the same approval (or a person) changed the endpoint first.
    if (error instanceof Conflict) return { action: "none", why: error.message };
    throw error;
  }
  if (plan.action === "skip") {
    try {
      await ports.notices.publish(approvalSkippedNotice(approved, setting.mode, plan.why));
    } catch (error) {
      ports.log.error("the deploy-on-approval notice could not be published", {
        modelName,
        version,
        error,
      });
    }
  }
  return plan;
}

/** The record SageMaker's state is about: by the endpoint's tags, else by its name. */
async function recordFor(
  ports: Pick<Ports, "endpoints">,
  state: EndpointState,
  tagged?: { modelName?: string | undefined; mode?: string | undefined },
): Promise<EndpointRecord | undefined> {
  if (tagged?.modelName && (tagged.mode === "serverless" || tagged.mode === "realtime")) {
    const record = await ports.endpoints.current(tagged.modelName, tagged.mode);
    if (record?.name === state.name) return record;
  }
  return (await ports.endpoints.list()).find((r) => r.name === state.name && exists(r));
}

/**
 * What SageMaker says of an endpoint (its EventBridge event, or DescribeEndpoint when an event
 * was missed), recorded once: SageMaker may send an event more than once, and only the write
 * whose status condition holds sends a notice. Returns the record as written, if it changed.
 */
export async function recordEndpointChange(
  ports: EndpointPorts,
  state: EndpointState,
  tagged?: { modelName?: string | undefined; mode?: string | undefined },
): Promise<EndpointRecord | undefined> {
  const record = await recordFor(ports, state, tagged);
  if (!record || record.status === "Deleted") return undefined;
  const at = ports.now().toISOString();
  if (state.status === "Deleting" || state.status === "Deleted") {
    const deletion = record.deletion ?? {
      by: "SageMaker",
      reason: "deleted outside modeldrop (the console, the CLI or another SageMaker client)",
    };
    const deleted = await change(
      ports,
      record,
      [record.status],
      { status: "Deleted", deletedAt: at, deletion, updating: undefined },
      { at, event: "deleted", version: record.version, by: deletion.by, detail: deletion.reason },
    );
    if (deleted) await removeDeployments(ports, record);
    return deleted;
  }
  if (state.status === "Failed" && (record.status === "Creating" || record.status === "Updating")) {
    const reason = state.failureReason ?? "SageMaker gave no reason";
    return change(
      ports,
      record,
      [record.status],
      { status: "Failed", failureReason: reason, updating: undefined },
      { at, event: "failed", version: record.version, detail: reason },
    );
  }
  if (state.status !== "InService") return undefined;
  if (record.status === "Creating")
    return change(
      ports,
      record,
      ["Creating"],
      { status: "InService", inServiceAt: at, failureReason: undefined },
      { at, event: "in-service", version: record.version },
    );
  if (record.status !== "Updating" || !record.updating) return undefined;
  const { updating } = record;
  if (state.configName === updating.configName) {
    const promoted = await change(
      ports,
      record,
      ["Updating"],
      {
        status: "InService",
        version: updating.version,
        configName: updating.configName,
        updating: undefined,
        failureReason: undefined,
      },
      { at, event: "promoted", version: updating.version },
    );
    if (promoted) await ports.hosting.deleteDeployment(record.configName).catch(() => undefined);
    return promoted;
  }
  const reason =
    state.failureReason ?? "SageMaker kept the old version in service and gave no reason";
  const kept = await change(
    ports,
    record,
    ["Updating"],
    { status: "InService", updating: undefined, failureReason: reason },
    { at, event: "promotion-failed", version: updating.version, detail: reason },
  );
  if (kept) await ports.hosting.deleteDeployment(updating.configName).catch(() => undefined);
  return kept;
}

/** A deleted endpoint's SageMaker models and configs, best effort (they cost nothing, but clutter). */
async function removeDeployments(ports: EndpointPorts, record: EndpointRecord): Promise<void> {
  for (const name of [record.configName, record.updating?.configName]) {
    if (!name) continue;
    await ports.hosting.deleteDeployment(name).catch((error: unknown) =>
      ports.log.warn("a deleted endpoint's model or config could not be removed", {
        name,
        error,
      }),
    );
  }
}

/**
 * The scheduled sweep: an InService endpoint idle for its timeout is deleted (its notice says so
 * and what it cost), and a record whose status has not moved for a while is brought to what
 * SageMaker says now, so a missed event or a crash between the record and SageMaker's call
 * leaves nothing unaccounted for.
 */
export async function sweepEndpoints(
  ports: EndpointPorts,
): Promise<{ deleted: string[]; reconciled: string[] }> {
  const now = ports.now();
  const deleted: string[] = [];
  const reconciled: string[] = [];
  const current = new Map<string, EndpointRecord>();
  for (const record of await ports.endpoints.list()) {
    const key = `${record.modelName}\u0000${record.mode}`;
    const seen = current.get(key);
    if (!seen || seen.generation < record.generation) current.set(key, record);
  }
  for (const record of current.values()) {
    if (!exists(record)) continue;
    const idle = idleMinutes(record, now);
    if (idle !== undefined) {
      try {
        await deleteEndpoint(ports, {
          modelName: record.modelName,
          mode: record.mode,
          by: "idle-timeout",
          reason: `no invocation through modeldrop for ${idle} minutes (idle timeout ${record.idleTimeoutMinutes} minutes)`,
        });
        deleted.push(record.name);
      } catch (error) {
        ports.log.error("an idle endpoint could not be deleted", { endpoint: record.name, error });
      }
      continue;
    }
    const moving = ["Creating", "Updating", "Deleting"].includes(record.status);
    if (!moving || now.getTime() - Date.parse(record.updatedAt) < STALE_MS) continue;
    const state = await ports.hosting.describeEndpoint(record.name);
    if (state.status === "Deleted" && record.status === "Creating") {
      const reason =
        "SageMaker has no such endpoint: its creation was interrupted before SageMaker was asked (delete it and create it again)";
      await change(
        ports,
        record,
        ["Creating"],
        { status: "Failed", failureReason: reason },
        { at: now.toISOString(), event: "failed", version: record.version, detail: reason },
      );
    } else {
      await recordEndpointChange(ports, state, record);
    }
    reconciled.push(record.name);
  }
  return { deleted, reconciled };
}

/** The endpoint a model's invocation goes to: the mode asked for, else real-time before serverless. */
async function invocationTarget(
  ports: Pick<Ports, "endpoints">,
  modelName: string,
  mode?: EndpointMode,
): Promise<EndpointRecord> {
  const candidates = [];
  for (const each of mode ? [mode] : INVOKE_ORDER) {
    const record = await ports.endpoints.current(modelName, each);
    if (record && exists(record)) candidates.push(record);
  }
  const serving = candidates.find((r) => r.status === "InService" || r.status === "Updating");
  if (serving) return serving;
  const [first] = candidates;
  if (first)
    throw new Conflict(
      "endpoint-not-in-service",
      `the ${first.mode} endpoint of ${modelName} is ${first.status}${first.failureReason ? ` (${first.failureReason})` : ""}; it answers once it is InService`,
    );
  throw new NotFound(
    "endpoint",
    `model ${modelName} has no ${mode ? `${mode} ` : ""}endpoint; create one with POST /models/${modelName}/endpoints`,
  );
}

/**
 * POST /models/{name}/invoke: the rows (or image) to the model's endpoint through SageMaker's
 * InvokeEndpoint; the answer is the model's, in the shape batch predictions have. Rows the model
 * cannot take are the caller's 400 with the model's words; a failure of its code is a 502.
 */
export async function invokeModel(
  ports: Pick<Ports, "endpoints" | "hosting" | "now">,
  args: {
    modelName: string;
    mode?: EndpointMode | undefined;
    body: Buffer;
    contentType: string;
    accept: string;
  },
): Promise<{ endpoint: EndpointRecord; body: Buffer; contentType: string }> {
  const endpoint = await invocationTarget(ports, args.modelName, args.mode);
  const limit = PAYLOAD_LIMIT_BYTES[endpoint.mode];
  if (args.body.length > limit)
    throw new TooLarge(
      `a ${endpoint.mode} endpoint takes at most ${limit / 1024 / 1024} MB per request (SageMaker's limit); this one is ${(args.body.length / 1024 / 1024).toFixed(1)} MB: send fewer rows per request, or use POST /predictions`,
    );
  const started = Date.now();
  const answer = await ports.hosting.invoke(
    endpoint.name,
    args.body,
    args.contentType,
    args.accept,
  );
  const seconds = (Date.now() - started) / 1000;
  if (answer.ok || answer.status !== undefined)
    await ports.endpoints.recordInvocation(keyOf(endpoint), {
      at: ports.now().toISOString(),
      seconds,
      bytes: args.body.length + (answer.ok ? answer.body.length : 0),
    });
  if (answer.ok) return { endpoint, body: answer.body, contentType: answer.contentType };
  if (answer.status === undefined)
    throw new Conflict(
      "endpoint-not-in-service",
      `SageMaker does not serve the ${endpoint.mode} endpoint of ${args.modelName} now: ${answer.message}`,
    );
  if (answer.status < 500)
    throw new InvalidRequest(
      `version ${endpoint.version} of ${args.modelName} refused the request: ${answer.message}`,
      {
        field: "body",
      },
    );
  throw new ModelFailed(
    `version ${endpoint.version} of ${args.modelName} failed on the request (status ${answer.status}): ${answer.message}`,
  );
}

/** GET /endpoints: every endpoint, newest first, with filters. */
export async function listEndpoints(
  ports: Pick<Ports, "endpoints">,
  filter: { model?: string | undefined; status?: EndpointStatus | undefined },
): Promise<EndpointRecord[]> {
  return (await ports.endpoints.list()).filter(
    (r) =>
      (!filter.model || r.modelName === filter.model) &&
      (!filter.status || r.status === filter.status),
  );
}

/** GET /models/{name}/endpoints/{mode}: the current one of that mode, with its history. */
export function endpointDetail(
  ports: Pick<Ports, "endpoints">,
  modelName: string,
  mode: EndpointMode,
): Promise<EndpointRecord> {
  return existing(ports, modelName, mode);
}
