/**
 * What the workflows need from the outside world, as interfaces this layer owns. aws/ implements
 * each one over the AWS SDK (DynamoDB, S3, Step Functions, SNS, CloudWatch Logs, SSM); unit
 * tests implement them in memory (test/unit/fakes.ts). Nothing here knows an SDK type.
 */
import type { CodeVersion } from "../core/code-registry.js";
import type {
  DeployOnApproval,
  EndpointMode,
  EndpointRecord,
  EndpointSettings,
  EndpointState,
  EndpointStatus,
  VersionApproved,
} from "../core/endpoints.js";
import type { Notice } from "../core/notice.js";
import type { ModelName, ModelVersion } from "../core/registry.js";
import type { NoticeDelivery, Run } from "../core/run-record.js";
import type { DeliveryStatusRecord } from "../core/run-view.js";
import type { RunStatus } from "../core/runs.js";

export type RunGuard =
  /** The run exists and has not ended: status changes and progress. */
  | "running"
  /** The run exists, whatever its status: the report, the notice stamp. */
  | "exists";

export interface RunFilter {
  status?: RunStatus | undefined;
  model?: string | undefined;
  dataset?: string | undefined;
  kind?: "train" | "predict" | undefined;
}

export interface RunListPage {
  runs: Run[];
  next?: string;
}

/** The Runs table. A terminal status is final: "running" writes to an ended run do nothing. */
export interface RunRepository {
  /** Records a new run; false when a run with this id exists (a duplicate event). */
  create(run: Run): Promise<boolean>;
  get(id: string): Promise<Run | undefined>;
  /** The run, or a RunNotFound (404 through the API). */
  require(id: string): Promise<Run>;
  /** Sets top-level fields; false, writing nothing, when the guard does not hold. */
  update(id: string, fields: Partial<Run>, guard?: RunGuard): Promise<boolean>;
  /** Newest first, `limit` at a time; `next` when more runs match. */
  list(filter: RunFilter, limit: number, cursor?: string): Promise<RunListPage>;
  /** Takes the run's one notice; false when it was already sent (or is being sent). */
  claimNotice(id: string): Promise<boolean>;
  /** Gives the notice back when publishing failed, so a retry can send it. */
  releaseNotice(id: string): Promise<void>;
  /** Appends one delivery attempt of the run's notice, whatever its status; false when the run is missing. */
  recordNoticeDelivery(id: string, delivery: NoticeDelivery): Promise<boolean>;
}

/** The model registry (Models table). */
export interface ModelRegistry {
  /** The next version number of a model name (1, 2, …), safe under concurrency. */
  nextVersion(modelName: string): Promise<number>;
  put(version: ModelVersion): Promise<void>;
  /** Model names in name order, a page at a time. */
  names(limit: number, cursor?: string): Promise<{ names: ModelName[]; next?: string }>;
  /** The model's newest version, or undefined when the name was never registered. */
  newest(modelName: string): Promise<ModelVersion | undefined>;
  /** A model's versions, newest first (empty when the name was never registered). */
  versions(modelName: string): Promise<ModelVersion[]>;
  /**
   * Sets a version's approval, conditional on the approval it was read with: of two reviewers
   * deciding at once one wins and the other gets a Conflict.
   */
  setApproval(current: ModelVersion, fields: ApprovalChange): Promise<ModelVersion>;
  /** The model's deploy-on-approval setting, or undefined when it has none. */
  deployOnApproval(modelName: string): Promise<DeployOnApproval | undefined>;
  /** Sets the model's deploy-on-approval setting; undefined turns it off. */
  setDeployOnApproval(modelName: string, setting: DeployOnApproval | undefined): Promise<void>;
}

/** What modeldrop announces of its models (EventBridge's default bus). */
export interface ModelEvents {
  /** A version became Approved (core/endpoints.ts VERSION_APPROVED). */
  versionApproved(event: VersionApproved): Promise<void>;
}

/** The code registry (Code table): users' scripts by name and version, never changed once written. */
export interface CodeRegistry {
  /** The next version number of a code name (1, 2, …), safe under concurrency. */
  nextVersion(codeName: string): Promise<number>;
  /** Writes a new version; a version that exists is never overwritten. */
  put(version: CodeVersion): Promise<void>;
  get(codeName: string, version: number): Promise<CodeVersion | undefined>;
  newest(codeName: string): Promise<CodeVersion | undefined>;
  /** A name's versions, newest first. */
  versions(codeName: string): Promise<CodeVersion[]>;
  /** Code names in name order, a page at a time. */
  names(
    limit: number,
    cursor?: string,
  ): Promise<{ names: { name: string; latestVersion: number }[]; next?: string }>;
}

export interface ApprovalChange {
  approval: ModelVersion["approval"];
  decidedBy: string;
  decidedAt: string;
  reason?: string;
}

export interface ObjectHead {
  size: number;
  lastModified: Date | undefined;
  metadata: Record<string, string>;
  versionId: string | undefined;
}

/** One object of a listing (S3 lists keys with their size and time, not their versions). */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectPage {
  objects: ListedObject[];
  /** S3's continuation token for the next page; absent on the last. */
  next?: string;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/** The data bucket's objects (S3). */
export interface ObjectStore {
  /** The object's head, or undefined when it (or that version) does not exist. */
  head(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined>;
  getBuffer(bucket: string, key: string): Promise<Buffer | undefined>;
  getText(bucket: string, key: string): Promise<string | undefined>;
  putObject(bucket: string, key: string, body: string | Buffer, contentType: string): Promise<void>;
  /** Copies one exact version of `key` to `to` ("null" for an unversioned object). */
  copyVersion(bucket: string, key: string, versionId: string, to: string): Promise<void>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** One page of the objects under `prefix` in key order, at most `limit`; `after`: an earlier page's `next`. */
  listPage(bucket: string, prefix: string, limit: number, after?: string): Promise<ObjectPage>;
  presignGet(bucket: string, key: string, seconds?: number): Promise<string>;
  presignPost(
    bucket: string,
    key: string,
    maxBytes: number,
    fields: Record<string, string>,
    seconds: number,
  ): Promise<PresignedPost>;
}

/** A state machine's executions (Step Functions). */
export interface Executions {
  /** Starts the execution named `name`; the same name and input again counts as started. */
  start(name: string, input: unknown): Promise<string>;
  /** Stops an execution; one that already ended is left as it is. */
  stop(executionArn: string, cause: string): Promise<void>;
}

/** Where notices are published (SNS; email and Slack subscribe). */
export interface NoticeChannel {
  /**
   * Publishes a notice, a run's when `runId` is given (subscribers record their deliveries on
   * it); the message id once it was accepted.
   */
  publish(notice: Notice, runId?: string): Promise<string | undefined>;
}

/** The Endpoints table: every generation of each model's endpoint of each mode. */
export interface EndpointRepository {
  /** The newest generation of a model's endpoint of this mode, or undefined when none was made. */
  current(modelName: string, mode: EndpointMode): Promise<EndpointRecord | undefined>;
  /** Writes a new generation; false when that generation was written first by someone else. */
  create(record: EndpointRecord): Promise<boolean>;
  /**
   * Sets fields on one generation when its status is one of `from` (any status when absent);
   * the record as written, or undefined when the condition did not hold.
   */
  update(
    key: EndpointKey,
    fields: Partial<EndpointRecord>,
    from?: readonly EndpointStatus[],
  ): Promise<EndpointRecord | undefined>;
  /** Counts one invocation through the API (atomic adds) and sets the last invocation's time. */
  recordInvocation(
    key: EndpointKey,
    use: { at: string; seconds: number; bytes: number },
  ): Promise<void>;
  /** Every record, every generation, newest first. */
  list(): Promise<EndpointRecord[]>;
}

export type EndpointKey = Pick<EndpointRecord, "modelName" | "mode" | "generation">;

/** The SageMaker container a registered version's model runs. */
export interface ContainerSpec {
  image: string;
  modelDataUrl: string;
  environment: Record<string, string>;
}

export type InvokeAnswer =
  | { ok: true; body: Buffer; contentType: string }
  /** The model's code answered an error status (SageMaker's ModelError). */
  | { ok: false; status: number; message: string }
  /** SageMaker has no such endpoint in service. */
  | { ok: false; status: undefined; message: string };

/** SageMaker hosting: models, endpoint configs, endpoints, and InvokeEndpoint. */
export interface Hosting {
  /** The container of a SageMaker model (a registered version's). */
  container(modelName: string): Promise<ContainerSpec>;
  /** A SageMaker model for one deployment, with the endpoints' own (read-only) role. */
  createModel(name: string, container: ContainerSpec, tags: Record<string, string>): Promise<void>;
  createEndpointConfig(
    name: string,
    modelName: string,
    settings: EndpointSettings,
    tags: Record<string, string>,
  ): Promise<void>;
  createEndpoint(name: string, configName: string, tags: Record<string, string>): Promise<void>;
  updateEndpoint(name: string, configName: string): Promise<void>;
  /** Deletes the endpoint; one SageMaker no longer has counts as deleted. */
  deleteEndpoint(name: string): Promise<void>;
  /** What SageMaker says of it now; status Deleted when it no longer exists. */
  describeEndpoint(name: string): Promise<EndpointState>;
  /** Removes a deployment's endpoint config and model; ones already gone are skipped. */
  deleteDeployment(name: string): Promise<void>;
  invoke(name: string, body: Buffer, contentType: string, accept: string): Promise<InvokeAnswer>;
}

export interface LogEvent {
  timestamp: number;
  message: string;
}

export interface LogPage {
  stream?: string;
  events: LogEvent[];
  /** The forward token after these events; undefined while the job has not logged yet. */
  next?: string;
}

/** SageMaker jobs' logs (CloudWatch Logs). */
export interface JobLogReader {
  /** The job's (first instance's) stream, or undefined while it has none. */
  stream(group: string, jobName: string): Promise<string | undefined>;
  /** `"tail"`: the newest events; `"head"`: the first; a token: what was logged after it. */
  read(
    group: string,
    stream: string,
    limit: number,
    from: "tail" | "head" | { token: string },
  ): Promise<LogPage>;
}

/** SNS's delivery-status log of the notice topic. */
export interface DeliveryStatusReader {
  /** Every delivery-status record of one message, oldest first. */
  forMessage(messageId: string, publishedAt?: string): Promise<DeliveryStatusRecord[]>;
}

/** Secrets read at run time (SSM SecureStrings), never logged. */
export interface SecretReader {
  read(name: string): Promise<string | undefined>;
}

/** Structured log lines (Powertools' Logger in a function). */
export interface Log {
  info(message: string, ...details: Record<string, unknown>[]): void;
  warn(message: string, ...details: Record<string, unknown>[]): void;
  error(message: string, ...details: Record<string, unknown>[]): void;
}

/** Every port, as the composition root (aws/root.ts) provides them. */
export interface Ports {
  runs: RunRepository;
  models: ModelRegistry;
  modelEvents: ModelEvents;
  code: CodeRegistry;
  objects: ObjectStore;
  /** The training pipeline's executions. */
  pipeline: Executions;
  /** The batch-predict pipeline's executions. */
  predictions: Executions;
  notices: NoticeChannel;
  endpoints: EndpointRepository;
  hosting: Hosting;
  jobLogs: JobLogReader;
  deliveryStatus: DeliveryStatusReader;
  secrets: SecretReader;
  log: Log;
  now: () => Date;
}
