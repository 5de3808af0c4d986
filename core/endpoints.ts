/**
 * Endpoints: a registered version served by SageMaker for requests one at a time, serverless
 * (no instance while idle, billed per GB-second of work) or real-time (instances billed by the
 * hour while the endpoint exists). A model has at most one endpoint per mode at a time. The
 * record of each one (the Endpoints table) keeps what it serves, its status as SageMaker reports
 * it, its history and what it cost; these are the rules about it.
 */
import { z } from "zod";
import { Conflict, NotFound } from "./errors.js";
import { asciiSubject } from "./notice.js";
import prices from "./prices.json" with { type: "json" };
import { newestApproved, type VersionLike } from "./registry.js";

export const ENDPOINT_MODES = ["serverless", "realtime"] as const;
export type EndpointMode = (typeof ENDPOINT_MODES)[number];

/** SageMaker's statuses, and Deleted: the record stays when the endpoint is gone. */
export const ENDPOINT_STATUSES = [
  "Creating",
  "InService",
  "Updating",
  "Failed",
  "Deleting",
  "Deleted",
] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Serverless Inference's memory sizes, in MB. */
export const SERVERLESS_MEMORY_MB = [1024, 2048, 3072, 4096, 5120, 6144] as const;
/** What SageMaker accepts in one InvokeEndpoint request. */
export const PAYLOAD_LIMIT_BYTES: Record<EndpointMode, number> = {
  realtime: 6 * 1024 * 1024,
  serverless: 4 * 1024 * 1024,
};
/** The instance types a real-time endpoint may use: the ones core/prices.json prices for hosting. */
export const HOSTING_INSTANCE_TYPES = Object.keys(prices.perHour.hosting);

export const DEFAULT_IDLE_MINUTES = 60;

export const EndpointSettings = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("serverless"),
    memorySizeMb: z.int(),
    maxConcurrency: z.int(),
  }),
  z.object({
    mode: z.literal("realtime"),
    instanceType: z.string(),
    instanceCount: z.int(),
  }),
]);
export type EndpointSettings = z.infer<typeof EndpointSettings>;

const HISTORY_EVENTS = [
  "create-requested",
  "in-service",
  "failed",
  "promote-requested",
  "promoted",
  "promotion-failed",
  "delete-requested",
  "deleted",
] as const;

export const EndpointEvent = z.object({
  at: z.string(),
  event: z.enum(HISTORY_EVENTS),
  version: z.int().optional(),
  by: z.string().optional(),
  detail: z.string().optional(),
});
export type EndpointEvent = z.infer<typeof EndpointEvent>;

/** One endpoint, as the Endpoints table holds it (parsed when read, never cast). */
export const EndpointRecord = z.object({
  modelName: z.string(),
  mode: z.enum(ENDPOINT_MODES),
  /** 1 for a model's first endpoint of this mode, +1 each time one is made after a deletion. */
  generation: z.int().min(1),
  /** The SageMaker endpoint's name (the same for every generation of a model and mode). */
  name: z.string(),
  status: z.enum(ENDPOINT_STATUSES),
  /** The version served (or being deployed, while Creating). */
  version: z.int().min(1),
  settings: EndpointSettings,
  /** Minutes without an invocation after which it is deleted; 0: never. */
  idleTimeoutMinutes: z.int().min(0),
  /** The SageMaker endpoint config (and model) serving `version`. */
  configName: z.string(),
  /** Deployments made so far (each has its own SageMaker model and config). */
  deployments: z.int().min(1),
  /** A promotion under way: the version and config the endpoint is being updated to. */
  updating: z.object({ version: z.int(), configName: z.string() }).optional(),
  failureReason: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  inServiceAt: z.string().optional(),
  deletedAt: z.string().optional(),
  /** Who asked for the deletion and why ("idle for 60 minutes"). */
  deletion: z.object({ by: z.string(), reason: z.string() }).optional(),
  lastInvokedAt: z.string().optional(),
  /** Invocations through modeldrop's API, their model time (seconds) and bytes in and out. */
  invocations: z.int().min(0),
  servedSeconds: z.number().min(0),
  bytesProcessed: z.number().min(0),
  history: z.array(EndpointEvent),
});
export type EndpointRecord = z.infer<typeof EndpointRecord>;

/** What SageMaker says of an endpoint (an event, or DescribeEndpoint). */
export interface EndpointState {
  name: string;
  /** SageMaker's status; an endpoint that no longer exists is "Deleted". */
  status: EndpointStatus;
  configName?: string | undefined;
  failureReason?: string | undefined;
}

/** Whether SageMaker still has (or is making) the endpoint. */
export function exists(record: EndpointRecord): boolean {
  return record.status !== "Deleted";
}

/**
 * The version an endpoint serves: the one named, or the newest Approved one. Only an Approved
 * version is served: a Pending one has not passed review, a Rejected one was turned down.
 */
export function versionForEndpoint<V extends VersionLike>(
  modelName: string,
  versions: readonly V[],
  requested?: number,
): V {
  if (requested === undefined) {
    const approved = newestApproved(versions);
    if (!approved)
      throw new Conflict(
        "no-approved-version",
        `model ${modelName} has no Approved version to serve; approve one first`,
      );
    return approved;
  }
  const named = versions.find((v) => v.version === requested);
  if (!named) throw new NotFound("model-version", `model ${modelName} has no version ${requested}`);
  if (named.approval !== "Approved")
    throw new Conflict(
      named.approval === "Rejected" ? "version-rejected" : "version-not-approved",
      `model ${modelName} version ${requested} is ${named.approval}; only an Approved version is served by an endpoint`,
    );
  return named;
}

/** A second endpoint of the same model and mode is refused while the first exists. */
export function refuseSecond(existing: EndpointRecord | undefined): void {
  if (!existing || !exists(existing)) return;
  throw new Conflict(
    "endpoint-exists",
    `model ${existing.modelName} already has a ${existing.mode} endpoint (${existing.status}, serving version ${existing.version}); promote it to another version, or delete it first`,
  );
}

/** EventBridge's `IN_SERVICE` → `InService`. */
export function statusFromEvent(status: string): EndpointStatus | undefined {
  const named: Record<string, EndpointStatus> = {
    CREATING: "Creating",
    IN_SERVICE: "InService",
    UPDATING: "Updating",
    FAILED: "Failed",
    DELETING: "Deleting",
    SYSTEM_UPDATING: "Updating",
  };
  return named[status];
}

export interface EndpointCost {
  /** What it has cost from its creation until its deletion (or now). */
  usd: number;
  /** What an hour of it costs while it exists, idle or not: 0 for serverless, null when unpriced. */
  hourlyUsd: number | null;
  basis: string;
}

/**
 * Real-time: the instances' hourly price from creation to deletion (SageMaker bills instances
 * from launch, used or not). Serverless: GB-seconds of the requests modeldrop sent it, plus the
 * data in and out; requests sent to it by other SageMaker clients are not seen here.
 */
export function endpointCost(record: EndpointRecord, now: Date): EndpointCost {
  const settings = record.settings;
  if (settings.mode === "realtime") {
    const hourly = (prices.perHour.hosting as Record<string, number>)[settings.instanceType];
    const end = record.deletedAt ? Date.parse(record.deletedAt) : now.getTime();
    const hours = Math.max(0, end - Date.parse(record.createdAt)) / 3_600_000;
    if (hourly === undefined)
      return {
        usd: 0,
        hourlyUsd: null,
        basis: `${settings.instanceType} has no price in core/prices.json`,
      };
    const perHour = hourly * settings.instanceCount;
    return {
      usd: roundUsd(perHour * hours),
      hourlyUsd: roundUsd(perHour),
      basis: `${settings.instanceCount} × ${settings.instanceType} at $${hourly}/h for ${hours.toFixed(2)} h (${prices.date} prices, ${prices.region})`,
    };
  }
  const gb = settings.memorySizeMb / 1024;
  const compute = record.servedSeconds * gb * prices.serverless.perGbSecond;
  const data = (record.bytesProcessed / 1024 ** 3) * prices.serverless.perGbProcessed;
  return {
    usd: roundUsd(compute + data),
    hourlyUsd: 0,
    basis: `${record.servedSeconds.toFixed(1)} s of requests at ${gb} GB ($${prices.serverless.perGbSecond}/GB-s) and ${(record.bytesProcessed / 1024 ** 2).toFixed(2)} MB in and out; nothing while idle (${prices.date} prices, ${prices.region})`,
  };
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** When the idle clock started: the last invocation, else when it came into service. */
function idleSince(record: EndpointRecord): string {
  return record.lastInvokedAt ?? record.inServiceAt ?? record.createdAt;
}

/** Minutes without an invocation, when that is at least its idle timeout; undefined otherwise. */
export function idleMinutes(record: EndpointRecord, now: Date): number | undefined {
  if (record.status !== "InService" || record.idleTimeoutMinutes === 0) return undefined;
  const minutes = (now.getTime() - Date.parse(idleSince(record))) / 60_000;
  return minutes >= record.idleTimeoutMinutes ? Math.floor(minutes) : undefined;
}

/** The record's history with one more entry. */
export function withEvent(record: EndpointRecord, entry: EndpointEvent): EndpointEvent[] {
  return [...record.history, entry];
}

function money(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/**
 * The one notice of a change: created (in service), failed, promoted, promotion failed,
 * deleted (with why, and what the endpoint cost in all).
 */
export function endpointNotice(
  record: EndpointRecord,
  event: EndpointEvent,
  now: Date,
): { subject: string; text: string } {
  const what = `${record.modelName} ${record.mode} endpoint`;
  const cost = endpointCost(record, now);
  const lines: string[] = [];
  let outcome: string;
  switch (event.event) {
    case "in-service":
      outcome = `in service, version ${record.version}`;
      lines.push(
        `The ${what} (${record.name}) serves version ${record.version}.`,
        cost.hourlyUsd === 0
          ? "Serverless: no charge while idle."
          : `It costs ${cost.hourlyUsd === null ? "an unpriced amount" : money(cost.hourlyUsd)} an hour until it is deleted.`,
        record.idleTimeoutMinutes === 0
          ? "It is never deleted for being idle."
          : `It is deleted after ${record.idleTimeoutMinutes} minutes without an invocation.`,
      );
      break;
    case "failed":
      outcome = "failed";
      lines.push(
        `The ${what} (${record.name}) could not be created for version ${record.version}.`,
        `Reason: ${event.detail ?? record.failureReason ?? "SageMaker gave none"}`,
        "It costs nothing more once deleted: delete it, fix the cause and create it again.",
      );
      break;
    case "promoted":
      outcome = `now serves version ${record.version}`;
      lines.push(`The ${what} (${record.name}) now serves version ${record.version}.`);
      break;
    case "promotion-failed":
      outcome = `update to version ${event.version} failed`;
      lines.push(
        `The ${what} (${record.name}) could not be updated to version ${event.version}; it still serves version ${record.version}.`,
        `Reason: ${event.detail ?? "SageMaker gave none"}`,
      );
      break;
    case "deleted":
      outcome = "deleted";
      lines.push(
        `The ${what} (${record.name}) is deleted${record.deletion ? `: ${record.deletion.reason} (by ${record.deletion.by})` : ""}.`,
        `It served version ${record.version} and cost ${money(cost.usd)} in all (${cost.basis}).`,
      );
      break;
    default:
      outcome = event.event;
      lines.push(`The ${what} (${record.name}): ${event.event}.`);
  }
  lines.push(`Invocations through modeldrop: ${record.invocations}.`);
  return { subject: asciiSubject(`modeldrop: ${what} ${outcome}`), text: lines.join("\n") };
}

/**
 * A model's standing request to serve each version that becomes its newest Approved one: the
 * endpoint settings it is deployed with (created when the model has no endpoint of the mode,
 * promoted when it has one InService). Kept on the model (the Models table's counter item).
 */
export const DeployOnApproval = z.object({
  mode: z.enum(ENDPOINT_MODES),
  settings: EndpointSettings,
  idleTimeoutMinutes: z.int().min(0),
  setBy: z.string(),
  setAt: z.string(),
});
export type DeployOnApproval = z.infer<typeof DeployOnApproval>;

/**
 * The event modeldrop puts on the account's default EventBridge bus each time a version becomes
 * Approved, by its run's quality gate or by a reviewer. Deploy-on-approval listens to it; a
 * user's own rules may too (`source: ["modeldrop"]`).
 */
export const VERSION_APPROVED = { source: "modeldrop", detailType: "Model Version Approved" };
export const VersionApproved = z.object({
  modelName: z.string().min(1),
  version: z.int().min(1),
  approvedBy: z.string(),
  runId: z.string().optional(),
});
export type VersionApproved = z.infer<typeof VersionApproved>;

/** What deploy-on-approval does with one approval. */
export type ApprovalDeployment =
  | { action: "create" }
  | { action: "promote"; from: number }
  /** Nothing to do: the version is not the newest Approved one, or it is already served. */
  | { action: "none"; why: string }
  /** The endpoint cannot take the version now; the user is told (one notice). */
  | { action: "skip"; why: string };

/**
 * Only the newest Approved version is deployed (approving an old version again changes nothing),
 * and only onto an endpoint that can take it: none (or a deleted one) is created, an InService
 * one is promoted; one that is being created, updated or deleted, or has failed, is left as it
 * is. A repeated event finds the version already served, or on its way.
 */
export function deploymentOnApproval<V extends VersionLike>(
  approved: number,
  versions: readonly V[],
  current: EndpointRecord | undefined,
): ApprovalDeployment {
  const newest = newestApproved(versions)?.version;
  if (newest !== approved)
    return {
      action: "none",
      why: `version ${approved} is not the newest Approved version (${newest === undefined ? "none is Approved now" : `that is ${newest}`})`,
    };
  if (!current || !exists(current)) return { action: "create" };
  const target = current.updating?.version ?? current.version;
  if (target === approved && current.status !== "Failed" && current.status !== "Deleting")
    return {
      action: "none",
      why: `the ${current.mode} endpoint already serves version ${approved} (${current.status})`,
    };
  if (current.status === "InService") return { action: "promote", from: current.version };
  return {
    action: "skip",
    why:
      current.status === "Failed"
        ? `its ${current.mode} endpoint is Failed (${current.failureReason ?? "SageMaker gave no reason"}); delete it, and the next approval deploys a new one`
        : `its ${current.mode} endpoint is ${current.status}; promote it once it is InService`,
  };
}

/** The notice of an approval deploy-on-approval could not act on. */
export function approvalSkippedNotice(
  approved: VersionApproved,
  mode: EndpointMode,
  why: string,
): { subject: string; text: string } {
  return {
    subject: asciiSubject(
      `modeldrop: ${approved.modelName} ${mode} endpoint not updated to version ${approved.version}`,
    ),
    text: [
      `Version ${approved.version} of ${approved.modelName} was approved (by ${approved.approvedBy}) and the model deploys on approval, but ${why}.`,
      `Promote it by hand: modeldrop endpoint promote ${approved.modelName} --version ${approved.version}${mode === "realtime" ? " --realtime" : ""}`,
    ].join("\n"),
  };
}

/** What a caller asks for when creating an endpoint (core/api.ts checks each field). */
export interface EndpointRequest {
  version?: number | undefined;
  mode: EndpointMode;
  memorySizeMb?: number | undefined;
  maxConcurrency?: number | undefined;
  instanceType?: string | undefined;
  instanceCount?: number | undefined;
  idleTimeoutMinutes?: number | undefined;
}

/**
 * The settings with their defaults: serverless 2048 MB and 5 concurrent requests (small tabular
 * models load in well under that memory; 5 is what a first user of an endpoint needs without
 * raising an account's concurrency quota), real-time one ml.m5.large.
 */
export function settingsFor(request: EndpointRequest): EndpointSettings {
  if (request.mode === "serverless")
    return {
      mode: "serverless",
      memorySizeMb: request.memorySizeMb ?? 2048,
      maxConcurrency: request.maxConcurrency ?? 5,
    };
  return {
    mode: "realtime",
    instanceType: request.instanceType ?? "ml.m5.large",
    instanceCount: request.instanceCount ?? 1,
  };
}
