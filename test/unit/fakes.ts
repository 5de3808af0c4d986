/**
 * In-memory implementations of the application's ports (app/ports.ts), for handler and
 * workflow unit tests. Each implements the port's interface, so the compiler checks it keeps
 * the real shape; none touches an SDK.
 */
import { vi } from "vitest";
import type {
  ApprovalChange,
  CodeRegistry,
  ContainerSpec,
  DeliveryStatusReader,
  EndpointKey,
  EndpointRepository,
  Executions,
  Hosting,
  InvokeAnswer,
  JobLogReader,
  Log,
  LogEvent,
  LogPage,
  ModelEvents,
  ModelRegistry,
  NoticeChannel,
  ObjectHead,
  ObjectPage,
  ObjectStore,
  Ports,
  RunFilter,
  RunGuard,
  RunListPage,
  RunRepository,
  SecretReader,
} from "../../app/ports.js";
import type { CodeVersion } from "../../core/code-registry.js";
import {
  type DeployOnApproval,
  type EndpointMode,
  EndpointRecord,
  type EndpointSettings,
  type EndpointState,
  type EndpointStatus,
  type VersionApproved,
} from "../../core/endpoints.js";
import { Conflict, parseStored, RunNotFound } from "../../core/errors.js";
import type { Notice } from "../../core/notice.js";
import { pipelineInput } from "../../core/pipeline-input.js";
import type { TrainingState } from "../../core/pipeline-state.js";
import type { ModelName, ModelVersion } from "../../core/registry.js";
import type { NoticeDelivery, Run } from "../../core/run-record.js";
import { isTerminal } from "../../core/runs.js";

export const PIPELINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:training-pipeline";

/** The Runs table: conditional create, and updates guarded as the real store guards them. */
export class FakeRuns implements RunRepository {
  private readonly items = new Map<string, Run>();
  /** Ids of the runs `create` recorded, in order (a refused duplicate is not listed). */
  readonly created: string[] = [];

  constructor(runs: Run[] = []) {
    for (const run of runs) this.items.set(run.id, structuredClone(run));
  }

  all(): Run[] {
    return [...this.items.values()].map((run) => structuredClone(run));
  }

  async create(run: Run): Promise<boolean> {
    if (this.items.has(run.id)) return false;
    this.items.set(run.id, structuredClone(run));
    this.created.push(run.id);
    return true;
  }

  async get(id: string): Promise<Run | undefined> {
    const run = this.items.get(id);
    return run ? structuredClone(run) : undefined;
  }

  async require(id: string): Promise<Run> {
    const run = await this.get(id);
    if (!run) throw new RunNotFound(`run ${id} does not exist`);
    return run;
  }

  async update(id: string, fields: Partial<Run>, guard: RunGuard = "running"): Promise<boolean> {
    const run = this.items.get(id);
    if (!run || (guard === "running" && isTerminal(run.status))) return false;
    const defined = Object.entries(fields).filter(([, value]) => value !== undefined);
    this.items.set(id, {
      ...run,
      ...structuredClone(Object.fromEntries(defined)),
      updatedAt: new Date().toISOString(),
    });
    return true;
  }

  /** Newest first; the cursor is the offset of the next page. */
  async list(filter: RunFilter, limit: number, cursor?: string): Promise<RunListPage> {
    const matching = this.all()
      .filter(
        (run) =>
          (filter.status === undefined || run.status === filter.status) &&
          (filter.model === undefined || run.modelName === filter.model) &&
          (filter.dataset === undefined || run.dataset.name === filter.dataset) &&
          (filter.kind === undefined || run.kind === filter.kind),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const from = cursor === undefined ? 0 : Number(cursor);
    const next = from + limit < matching.length ? { next: String(from + limit) } : {};
    return { runs: matching.slice(from, from + limit), ...next };
  }

  async claimNotice(id: string): Promise<boolean> {
    const run = this.items.get(id);
    if (!run || run.noticeSentAt !== undefined) return false;
    run.noticeSentAt = new Date().toISOString();
    return true;
  }

  async releaseNotice(id: string): Promise<void> {
    const run = this.items.get(id);
    if (run) delete run.noticeSentAt;
  }

  async recordNoticeDelivery(id: string, delivery: NoticeDelivery): Promise<boolean> {
    const run = this.items.get(id);
    if (!run) return false;
    run.noticeDeliveries = [...(run.noticeDeliveries ?? []), structuredClone(delivery)];
    return true;
  }
}

interface StoredObject {
  body: Buffer;
  head: ObjectHead;
  contentType?: string;
}

/** A versioned bucket: the newest version of a key answers unless a version is named. */
export class FakeObjects implements ObjectStore {
  private readonly versions = new Map<string, StoredObject[]>();

  put(
    bucket: string,
    key: string,
    body: string | Buffer,
    head: Partial<Omit<ObjectHead, "size">> = {},
    contentType?: string,
  ): void {
    const bytes = Buffer.from(body);
    const stored: StoredObject = {
      ...(contentType ? { contentType } : {}),
      body: bytes,
      head: {
        size: bytes.length,
        lastModified: head.lastModified ?? new Date("2026-11-02T09:00:00Z"),
        metadata: head.metadata ?? {},
        versionId: head.versionId,
      },
    };
    const where = `${bucket}/${key}`;
    this.versions.set(where, [...(this.versions.get(where) ?? []), stored]);
  }

  private find(bucket: string, key: string, versionId?: string): StoredObject | undefined {
    const versions = this.versions.get(`${bucket}/${key}`) ?? [];
    return versionId === undefined
      ? versions.at(-1)
      : versions.find((stored) => stored.head.versionId === versionId);
  }

  async head(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined> {
    const found = this.find(bucket, key, versionId);
    return found ? structuredClone(found.head) : undefined;
  }

  async getBuffer(bucket: string, key: string): Promise<Buffer | undefined> {
    const found = this.find(bucket, key);
    return found ? Buffer.from(found.body) : undefined;
  }

  async getText(bucket: string, key: string): Promise<string | undefined> {
    return (await this.getBuffer(bucket, key))?.toString("utf8");
  }

  async putObject(
    bucket: string,
    key: string,
    body: string | Buffer,
    contentType: string,
  ): Promise<void> {
    this.put(bucket, key, body, {}, contentType);
  }

  /** The Content-Type the object was written with (putObject's). */
  contentTypeOf(bucket: string, key: string): string | undefined {
    return this.find(bucket, key)?.contentType;
  }

  async presignGet(bucket: string, key: string): Promise<string> {
    return `https://${bucket}.example/${encodeURIComponent(key)}?signed`;
  }

  async presignPost(
    bucket: string,
    key: string,
    _maxBytes: number,
    fields: Record<string, string>,
  ): Promise<{ url: string; fields: Record<string, string> }> {
    return { url: `https://${bucket}.example/`, fields: { ...fields, key } };
  }

  async copyVersion(bucket: string, key: string, versionId: string, to: string): Promise<void> {
    const found = this.find(bucket, key, versionId === "null" ? undefined : versionId);
    if (!found) throw Object.assign(new Error(`no ${key} ${versionId}`), { name: "NoSuchKey" });
    this.put(bucket, to, found.body);
  }

  async listKeys(bucket: string, prefix: string): Promise<string[]> {
    return [...this.versions.keys()]
      .filter((where) => where.startsWith(`${bucket}/${prefix}`))
      .map((where) => where.slice(bucket.length + 1))
      .sort();
  }

  /** Key order, `limit` at a time; the continuation token is the page's last key (as the local cloud's). */
  async listPage(
    bucket: string,
    prefix: string,
    limit: number,
    after?: string,
  ): Promise<ObjectPage> {
    const keys = (await this.listKeys(bucket, prefix)).filter(
      (key) => after === undefined || key > after,
    );
    const objects = keys.slice(0, limit).map((key) => {
      const head = this.find(bucket, key)?.head;
      return { key, size: head?.size ?? 0, lastModified: head?.lastModified ?? new Date(0) };
    });
    const last = objects.at(-1);
    return { objects, ...(keys.length > limit && last ? { next: last.key } : {}) };
  }
}

/**
 * Step Functions: records every start that got through (`crashNextStart` makes the next one
 * throw, as a Lambda timing out mid-call would) and every stop.
 */
export class FakePipeline implements Executions {
  readonly starts: { name: string; input: unknown }[] = [];
  readonly stops: { executionArn: string; cause: string }[] = [];
  private crash: Error | undefined;

  crashNextStart(error: Error): void {
    this.crash = error;
  }

  async stop(executionArn: string, cause: string): Promise<void> {
    this.stops.push({ executionArn, cause });
  }

  async start(name: string, input: unknown): Promise<string> {
    const crash = this.crash;
    this.crash = undefined;
    if (crash) throw crash;
    this.starts.push({ name, input: structuredClone(input) });
    return executionArn(name);
  }
}

export function executionArn(name: string): string {
  return `${PIPELINE_ARN.replace(":stateMachine:", ":execution:")}:${name}`;
}

export class FakeNotices implements NoticeChannel {
  readonly published: Notice[] = [];
  /** The run each published notice was for, in the same order (undefined: an endpoint's). */
  readonly runIds: (string | undefined)[] = [];

  async publish(notice: Notice, runId?: string): Promise<string> {
    this.published.push(notice);
    this.runIds.push(runId);
    return `message-${this.published.length}`;
  }
}

export class FakeSecrets implements SecretReader {
  constructor(private readonly values: Record<string, string> = {}) {}

  async read(name: string): Promise<string | undefined> {
    return this.values[name];
  }
}

/** The training pipeline's execution input for a recorded run, as launching it builds it. */
export function trainingStateOf(run: Run): TrainingState {
  return pipelineInput({
    runId: run.id,
    bucket: run.dataset.bucket,
    region: "us-east-1",
    source: { key: run.dataset.key, versionId: run.dataset.versionId },
    kind: run.dataset.kind ?? "table",
    options: run.options,
    codeSha256: "c0de".repeat(16),
  });
}

/** A log that keeps its lines, for tests that check what a workflow logged. */
export class FakeLog implements Log {
  readonly lines: { level: "info" | "warn" | "error"; message: string; details: unknown[] }[] = [];

  info(message: string, ...details: Record<string, unknown>[]): void {
    this.lines.push({ level: "info", message, details });
  }

  warn(message: string, ...details: Record<string, unknown>[]): void {
    this.lines.push({ level: "warn", message, details });
  }

  error(message: string, ...details: Record<string, unknown>[]): void {
    this.lines.push({ level: "error", message, details });
  }
}

/** A run as on-upload records it, with the fields a test names replaced. */
export function aRun(fields: Partial<Run> = {}): Run {
  return {
    id: "churn-data-3f2a9c1b0d4e",
    kind: "train",
    status: "QUEUED",
    createdAt: "2026-11-02T10:00:00.000Z",
    updatedAt: "2026-11-02T10:00:00.000Z",
    dataset: {
      bucket: "modeldrop-data",
      key: "inbox/churn data.csv",
      versionId: "v1",
      name: "churn data.csv",
      kind: "table",
    },
    options: {},
    optionsSource: "none",
    notes: [],
    ...fields,
  };
}

/**
 * Everything written to stdout, stderr or the console while `act` runs: where Powertools'
 * Logger writes (its own Console over process.stdout/stderr, or the global console when
 * POWERTOOLS_DEV is set).
 */
export async function captureOutput<T>(
  act: () => Promise<T>,
): Promise<{ result: T; output: string }> {
  const chunks: string[] = [];
  const record = (...args: unknown[]) => {
    chunks.push(args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" "));
  };
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      record(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }),
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      record(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }),
    ...(["log", "info", "warn", "error", "debug"] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(record),
    ),
  ];
  try {
    return { result: await act(), output: chunks.join("\n") };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The model registry: a counter per name and the versions, with the store's approval guard. */
/** A versioned registry in memory (Models, Code): a counter per name and the versions. */
class FakeVersions<V extends { version: number }> {
  protected readonly counters = new Map<string, number>();
  protected readonly items: V[] = [];

  constructor(
    private readonly nameOf: (version: V) => string,
    versions: V[] = [],
  ) {
    for (const version of versions) {
      this.items.push(structuredClone(version));
      const counter = this.counters.get(nameOf(version)) ?? 0;
      this.counters.set(nameOf(version), Math.max(counter, version.version));
    }
  }

  async nextVersion(name: string): Promise<number> {
    const next = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, next);
    return next;
  }

  async put(version: V): Promise<void> {
    if (
      this.items.some(
        (v) => this.nameOf(v) === this.nameOf(version) && v.version === version.version,
      )
    )
      throw Object.assign(new Error("version exists"), { name: "ConditionalCheckFailedException" });
    this.items.push(structuredClone(version));
  }

  async names(limit: number): Promise<{ names: ModelName[]; next?: string }> {
    const names = [...this.counters.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, latestVersion]) => ({ name, latestVersion }));
    return { names: names.slice(0, limit) };
  }

  async get(name: string, version: number): Promise<V | undefined> {
    return (await this.versions(name)).find((v) => v.version === version);
  }

  async newest(name: string): Promise<V | undefined> {
    return (await this.versions(name))[0];
  }

  async versions(name: string): Promise<V[]> {
    return this.items
      .filter((v) => this.nameOf(v) === name)
      .sort((a, b) => b.version - a.version)
      .map((v) => structuredClone(v));
  }
}

export class FakeCode extends FakeVersions<CodeVersion> implements CodeRegistry {
  constructor(versions: CodeVersion[] = []) {
    super((v) => v.codeName, versions);
  }
}

export class FakeModels extends FakeVersions<ModelVersion> implements ModelRegistry {
  constructor(versions: ModelVersion[] = []) {
    super((v) => v.modelName, versions);
  }

  async setApproval(current: ModelVersion, change: ApprovalChange): Promise<ModelVersion> {
    const stored = this.items.find(
      (v) => v.modelName === current.modelName && v.version === current.version,
    );
    if (!stored || stored.approval !== current.approval)
      throw new Conflict(
        "changed-meanwhile",
        "the version's approval changed meanwhile; read it again",
      );
    const { reason: _old, ...rest } = stored;
    const decided: ModelVersion = { ...rest, ...change };
    this.items.splice(this.items.indexOf(stored), 1, decided);
    return structuredClone(decided);
  }

  readonly settings = new Map<string, DeployOnApproval>();

  async deployOnApproval(modelName: string): Promise<DeployOnApproval | undefined> {
    const setting = this.settings.get(modelName);
    return setting && structuredClone(setting);
  }

  async setDeployOnApproval(modelName: string, setting: DeployOnApproval | undefined) {
    if (setting) this.settings.set(modelName, structuredClone(setting));
    else this.settings.delete(modelName);
  }
}

/** The default bus: what was put on it, in order. */
export class FakeModelEvents implements ModelEvents {
  readonly approved: VersionApproved[] = [];

  async versionApproved(event: VersionApproved): Promise<void> {
    this.approved.push(structuredClone(event));
  }
}

/** CloudWatch Logs for jobs: one stream per job (`<job>/algo-1`), forward tokens as offsets. */
export class FakeJobLogs implements JobLogReader {
  private readonly streams = new Map<string, LogEvent[]>();

  write(group: string, job: string, ...messages: string[]): void {
    const key = `${group}|${job}/algo-1`;
    const events = this.streams.get(key) ?? [];
    for (const message of messages) events.push({ timestamp: events.length + 1, message });
    this.streams.set(key, events);
  }

  async stream(group: string, jobName: string): Promise<string | undefined> {
    return this.streams.has(`${group}|${jobName}/algo-1`) ? `${jobName}/algo-1` : undefined;
  }

  async read(
    group: string,
    stream: string,
    limit: number,
    from: "tail" | "head" | { token: string },
  ): Promise<LogPage> {
    const events = this.streams.get(`${group}|${stream}`) ?? [];
    const start =
      from === "tail"
        ? Math.max(0, events.length - limit)
        : from === "head"
          ? 0
          : Number(from.token);
    const page = events.slice(start, start + limit);
    return { stream, events: page, next: String(start + page.length) };
  }
}

/**
 * The Endpoints table, with the store's semantics (aws/endpoints-store.ts): a generation is
 * written once, `update` holds only when the status is one of `from` (and REMOVEs a field given
 * as `undefined`; the key fields are left as they are), invocations add up, `list` is newest
 * first by `createdAt`. What it answers is parsed as the store parses it.
 */
export class FakeEndpoints implements EndpointRepository {
  private readonly items = new Map<string, EndpointRecord>();

  constructor(records: EndpointRecord[] = []) {
    for (const record of records)
      this.items.set(FakeEndpoints.slot(record), structuredClone(record));
  }

  private static slot(key: EndpointKey): string {
    return `${key.modelName}\u0000${key.mode}\u0000${String(key.generation).padStart(6, "0")}`;
  }

  /** One generation as stored, for a test to check. */
  get(key: EndpointKey): EndpointRecord | undefined {
    const record = this.items.get(FakeEndpoints.slot(key));
    return record ? structuredClone(record) : undefined;
  }

  /** Every stored record, in no particular order. */
  all(): EndpointRecord[] {
    return [...this.items.values()].map((record) => structuredClone(record));
  }

  async current(modelName: string, mode: EndpointMode): Promise<EndpointRecord | undefined> {
    return this.all()
      .filter((record) => record.modelName === modelName && record.mode === mode)
      .sort((a, b) => b.generation - a.generation)[0];
  }

  async create(record: EndpointRecord): Promise<boolean> {
    const slot = FakeEndpoints.slot(record);
    if (this.items.has(slot)) return false;
    this.items.set(slot, structuredClone(record));
    return true;
  }

  async update(
    key: EndpointKey,
    fields: Partial<EndpointRecord>,
    from?: readonly EndpointStatus[],
  ): Promise<EndpointRecord | undefined> {
    const slot = FakeEndpoints.slot(key);
    const stored = this.items.get(slot);
    if (!stored || (from && !from.includes(stored.status))) return undefined;
    const next: Record<string, unknown> = { ...stored };
    for (const [field, value] of Object.entries(fields)) {
      if (field === "modelName" || field === "mode" || field === "generation") continue;
      if (value === undefined) delete next[field];
      else next[field] = structuredClone(value);
    }
    const written = parseStored(EndpointRecord, next, `endpoint ${slot} in the fake Endpoints`);
    this.items.set(slot, written);
    return structuredClone(written);
  }

  async recordInvocation(
    key: EndpointKey,
    use: { at: string; seconds: number; bytes: number },
  ): Promise<void> {
    const stored = this.items.get(FakeEndpoints.slot(key));
    if (!stored) return;
    stored.invocations += 1;
    stored.servedSeconds += use.seconds;
    stored.bytesProcessed += use.bytes;
    stored.lastInvokedAt = use.at;
  }

  async list(): Promise<EndpointRecord[]> {
    return this.all().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}

type HostingMethod = keyof Hosting;

/** One call of the fake SageMaker, with its arguments: `{ method: "updateEndpoint", args: [name, config] }`. */
export type HostingCall = {
  [M in HostingMethod]: { method: M; args: Parameters<Hosting[M]> };
}[HostingMethod];

/** An endpoint as the fake SageMaker holds it. */
export interface FakeSageMakerEndpoint {
  status: Exclude<EndpointStatus, "Deleted">;
  configName: string;
  /** The config an update is deploying, while Updating. */
  updatingTo?: string;
  failureReason?: string;
  tags: Record<string, string>;
}

/** SageMaker's error for what it refuses or does not have (a ValidationException, as the SDK raises it). */
export function sageMakerError(message: string): Error {
  return Object.assign(new Error(message), { name: "ValidationException" });
}

type InvokeHandler = (
  name: string,
  body: Buffer,
  contentType: string,
  accept: string,
) => InvokeAnswer;

/**
 * SageMaker hosting in memory. Every call is recorded in `calls`, in order (a call made to fail
 * too). It keeps models, endpoint configs and endpoints, and refuses what SageMaker refuses: a
 * name that exists, a config of a model it does not have, an endpoint of a config it does not
 * have, an update of an endpoint that is not InService, a deletion of one already Deleting.
 * Endpoints do not move by themselves: a test drives them with `finish` (what SageMaker ends
 * with) or `setEndpoint` (any state), and `failNext` makes one method's next call throw.
 */
export class FakeHosting implements Hosting {
  readonly calls: HostingCall[] = [];
  readonly models = new Map<string, { container: ContainerSpec; tags: Record<string, string> }>();
  readonly configs = new Map<
    string,
    { modelName: string; settings: EndpointSettings; tags: Record<string, string> }
  >();
  readonly endpoints = new Map<string, FakeSageMakerEndpoint>();
  private readonly failures = new Map<HostingMethod, Error>();
  private answer: InvokeHandler = (_name, body, _contentType, accept) => ({
    ok: true,
    body: Buffer.from(body),
    contentType: accept,
  });

  /** A SageMaker model that exists already (a registered version's, as the pipeline made it). */
  addModel(name: string, container: ContainerSpec): void {
    this.models.set(name, { container: structuredClone(container), tags: {} });
  }

  /** The next call of `method` throws `error` (the call is still recorded). */
  failNext(method: HostingMethod, error: Error = sageMakerError(`${method} failed`)): void {
    this.failures.set(method, error);
  }

  /** What `invoke` answers for an endpoint SageMaker serves (InService or Updating); by default the body back. */
  answerInvocations(answer: InvokeAnswer | InvokeHandler): void {
    // A copy each time (structuredClone would turn the Buffer into a plain Uint8Array).
    this.answer =
      typeof answer === "function"
        ? answer
        : () => (answer.ok ? { ...answer, body: Buffer.from(answer.body) } : { ...answer });
  }

  /** Sets what SageMaker says of an endpoint; "Deleted" removes it. */
  setEndpoint(
    name: string,
    state: Omit<Partial<FakeSageMakerEndpoint>, "status"> & { status: EndpointStatus },
  ): void {
    if (state.status === "Deleted") {
      this.endpoints.delete(name);
      return;
    }
    const { status, ...rest } = state;
    const existing = this.endpoints.get(name);
    this.endpoints.set(name, {
      tags: {},
      configName: "",
      ...existing,
      ...rest,
      status,
    });
  }

  /**
   * Ends what SageMaker is doing to an endpoint, as SageMaker would: a creation InService (or
   * Failed with `failureReason`), an update InService on the new config (or, failed, still on
   * the old one with `failureReason`: SageMaker rolls back), a deletion by removing it.
   */
  finish(name: string, failureReason?: string): void {
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw new Error(`the fake SageMaker has no endpoint ${name}`);
    if (endpoint.status === "Deleting") this.endpoints.delete(name);
    else if (endpoint.status === "Creating") {
      endpoint.status = failureReason === undefined ? "InService" : "Failed";
      if (failureReason !== undefined) endpoint.failureReason = failureReason;
    } else if (endpoint.status === "Updating") {
      const target = endpoint.updatingTo;
      delete endpoint.updatingTo;
      endpoint.status = "InService";
      if (failureReason !== undefined) endpoint.failureReason = failureReason;
      else if (target !== undefined) {
        endpoint.configName = target;
        delete endpoint.failureReason;
      }
    } else throw new Error(`the fake SageMaker's endpoint ${name} is ${endpoint.status}`);
  }

  /** The names of the methods called, in order. */
  methodsCalled(): HostingMethod[] {
    return this.calls.map((call) => call.method);
  }

  private call(call: HostingCall): void {
    this.calls.push(call);
    const failure = this.failures.get(call.method);
    if (failure) {
      this.failures.delete(call.method);
      throw failure;
    }
  }

  async container(modelName: string): Promise<ContainerSpec> {
    this.call({ method: "container", args: [modelName] });
    const model = this.models.get(modelName);
    if (!model) throw sageMakerError(`Could not find model "${modelName}".`);
    return structuredClone(model.container);
  }

  async createModel(
    name: string,
    container: ContainerSpec,
    tags: Record<string, string>,
  ): Promise<void> {
    this.call({ method: "createModel", args: [name, container, tags] });
    if (this.models.has(name))
      throw sageMakerError(`Cannot create already existing model "${name}".`);
    this.models.set(name, { container: structuredClone(container), tags: { ...tags } });
  }

  async createEndpointConfig(
    name: string,
    modelName: string,
    settings: EndpointSettings,
    tags: Record<string, string>,
  ): Promise<void> {
    this.call({ method: "createEndpointConfig", args: [name, modelName, settings, tags] });
    if (this.configs.has(name))
      throw sageMakerError(`Cannot create already existing endpoint configuration "${name}".`);
    if (!this.models.has(modelName)) throw sageMakerError(`Could not find model "${modelName}".`);
    this.configs.set(name, { modelName, settings: structuredClone(settings), tags: { ...tags } });
  }

  async createEndpoint(
    name: string,
    configName: string,
    tags: Record<string, string>,
  ): Promise<void> {
    this.call({ method: "createEndpoint", args: [name, configName, tags] });
    if (this.endpoints.has(name))
      throw sageMakerError(`Cannot create already existing endpoint "${name}".`);
    if (!this.configs.has(configName))
      throw sageMakerError(`Could not find endpoint configuration "${configName}".`);
    this.endpoints.set(name, { status: "Creating", configName, tags: { ...tags } });
  }

  async updateEndpoint(name: string, configName: string): Promise<void> {
    this.call({ method: "updateEndpoint", args: [name, configName] });
    const endpoint = this.endpoints.get(name);
    if (!endpoint) throw sageMakerError(`Could not find endpoint "${name}".`);
    if (!this.configs.has(configName))
      throw sageMakerError(`Could not find endpoint configuration "${configName}".`);
    if (endpoint.status !== "InService")
      throw sageMakerError(
        `Cannot update endpoint "${name}" while it is ${endpoint.status}; only an InService endpoint can be updated.`,
      );
    endpoint.status = "Updating";
    endpoint.updatingTo = configName;
  }

  async deleteEndpoint(name: string): Promise<void> {
    this.call({ method: "deleteEndpoint", args: [name] });
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return;
    if (endpoint.status === "Deleting")
      throw sageMakerError(`Cannot delete endpoint "${name}": it is already being deleted.`);
    endpoint.status = "Deleting";
  }

  async describeEndpoint(name: string): Promise<EndpointState> {
    this.call({ method: "describeEndpoint", args: [name] });
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return { name, status: "Deleted" };
    return {
      name,
      status: endpoint.status,
      configName: endpoint.configName,
      failureReason: endpoint.failureReason,
    };
  }

  async deleteDeployment(name: string): Promise<void> {
    this.call({ method: "deleteDeployment", args: [name] });
    this.configs.delete(name);
    this.models.delete(name);
  }

  async invoke(
    name: string,
    body: Buffer,
    contentType: string,
    accept: string,
  ): Promise<InvokeAnswer> {
    this.call({ method: "invoke", args: [name, body, contentType, accept] });
    const endpoint = this.endpoints.get(name);
    if (!endpoint || (endpoint.status !== "InService" && endpoint.status !== "Updating"))
      return {
        ok: false,
        status: undefined,
        message: `Endpoint ${name} of account 123456789012 not found.`,
      };
    return this.answer(name, body, contentType, accept);
  }
}

/**
 * Every port in memory, as aws/root.ts provides them for real, each its fake's own type so a
 * test can drive it; spread it and replace one (`{ ...fakePorts(), runs: new FakeRuns([run]) }`).
 */
export function fakePorts(now = new Date("2026-11-02T10:30:00Z")) {
  const deliveryStatus: DeliveryStatusReader = { forMessage: async () => [] };
  return {
    runs: new FakeRuns(),
    models: new FakeModels(),
    modelEvents: new FakeModelEvents(),
    code: new FakeCode(),
    objects: new FakeObjects(),
    pipeline: new FakePipeline(),
    predictions: new FakePipeline(),
    notices: new FakeNotices(),
    endpoints: new FakeEndpoints(),
    hosting: new FakeHosting(),
    jobLogs: new FakeJobLogs(),
    deliveryStatus,
    secrets: new FakeSecrets(),
    log: new FakeLog(),
    now: () => now,
  } satisfies Ports;
}
