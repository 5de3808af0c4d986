/**
 * The endpoint commands: `endpoint create|list|show|promote|delete` and `invoke`. What the
 * commands decide without a server (the create request from the flags, which endpoint a model
 * means, a file's content type and size) is pure and exported for the unit tests; progress goes
 * to stderr and results to stdout, as for runs.
 */
import { openAsBlob, statSync } from "node:fs";
import { basename, extname } from "node:path";
import type { z } from "zod";
import {
  CreateEndpointBody,
  DeployOnApprovalBody,
  DeployOnApprovalView,
  EndpointPage,
  EndpointView,
  INVOKE_TYPES,
  Invocation,
} from "../core/api.js";
import { PARSE_OPTIONS, requestIssue } from "../core/api-issues.js";
import { type EndpointMode, PAYLOAD_LIMIT_BYTES } from "../core/endpoints.js";
import { duration } from "../core/notice.js";
import { type Api, CliError } from "./client.js";
import { wholeNumber } from "./usage.js";

type View = z.output<typeof EndpointView>;
type CreateRequest = z.output<typeof CreateEndpointBody>;
type OnApprovalRequest = z.output<typeof DeployOnApprovalBody>;

const POLL_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The mode `--serverless` / `--realtime` name (the usage table refuses both at once). */
export function modeOf(flags: {
  serverless: boolean;
  realtime: boolean;
}): EndpointMode | undefined {
  if (flags.realtime) return "realtime";
  if (flags.serverless) return "serverless";
  return undefined;
}

/** The request's fields and the flags that set them, so a refusal names the flag. */
const CREATE_FLAGS: Record<string, string> = {
  version: "--version",
  memorySizeMb: "--memory",
  maxConcurrency: "--concurrency",
  instanceType: "--instance-type",
  instanceCount: "--instance-count",
  idleTimeoutMinutes: "--idle-minutes",
};

/** The endpoint settings' flags, as `endpoint create` and `endpoint on-approval` take them. */
export interface SettingsFlags {
  mode?: EndpointMode | undefined;
  memory?: string | undefined;
  concurrency?: string | undefined;
  instanceType?: string | undefined;
  instanceCount?: string | undefined;
  idleMinutes?: string | undefined;
}

/**
 * A request body from the flags, checked with the API's own schema before anything is sent; a
 * refusal is a usage error in the flags' words (`--memory: …`).
 */
function checkedRequest<S extends z.ZodType>(
  schema: S,
  flags: SettingsFlags & { version?: string | undefined },
): z.output<S> {
  const fields = {
    version: wholeNumber("version", flags.version),
    mode: flags.mode,
    memorySizeMb: wholeNumber("memory", flags.memory),
    maxConcurrency: wholeNumber("concurrency", flags.concurrency),
    instanceType: flags.instanceType,
    instanceCount: wholeNumber("instance-count", flags.instanceCount),
    idleTimeoutMinutes: wholeNumber("idle-minutes", flags.idleMinutes),
  };
  const body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const checked = schema.safeParse(body, PARSE_OPTIONS);
  if (checked.success) return checked.data;
  const { field, detail } = requestIssue(checked.error.issues[0]);
  const worded = Object.entries(CREATE_FLAGS).reduce(
    (text, [name, flag]) => text.replaceAll(new RegExp(`\\b${name}\\b`, "g"), flag),
    detail,
  );
  throw new CliError(worded, 2, {
    code: "invalid-options",
    field: CREATE_FLAGS[field]?.slice(2) ?? field,
  });
}

/** POST /models/{name}/endpoints's body from `endpoint create`'s flags. */
export function createRequest(flags: SettingsFlags & { version?: string | undefined }) {
  return checkedRequest(CreateEndpointBody, flags);
}

/** PUT /models/{name}/deploy-on-approval's body from `endpoint on-approval`'s flags. */
export function onApprovalRequest(flags: SettingsFlags) {
  return checkedRequest(DeployOnApprovalBody, flags);
}

/**
 * Which endpoint a model means when no mode is named: its one that exists (any status but
 * Deleted). Both modes is a usage error; none says how to make one.
 */
export function whichEndpoint(model: string, endpoints: readonly View[]): EndpointMode {
  const mine = endpoints.filter((e) => e.modelName === model);
  const existing = [...new Set(mine.filter((e) => e.status !== "Deleted").map((e) => e.mode))];
  const [only, other] = existing;
  if (only && other)
    throw new CliError(
      `model ${model} has a ${only} and a ${other} endpoint; pass --serverless or --realtime`,
      2,
    );
  if (only) return only;
  const deleted =
    mine.length > 0 ? ` (its deleted ones: npx modeldrop endpoint list --model ${model})` : "";
  throw new CliError(
    `model ${model} has no endpoint; create one with: npx modeldrop endpoint create ${model}${deleted}`,
    1,
    { code: "no-endpoint" },
  );
}

/** The extensions `invoke` knows, and the content type each is sent as. */
export const CONTENT_TYPES: Record<string, (typeof INVOKE_TYPES)[number]> = {
  ".csv": "text/csv",
  ".tsv": "text/csv",
  ".txt": "text/csv",
  ".json": "application/json",
  ".jsonl": "application/jsonlines",
  ".ndjson": "application/jsonlines",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

/** `--content-type` if given (one the API takes), else the one of the file's extension. */
export function contentTypeFor(path: string, given?: string): string {
  const takes = INVOKE_TYPES.join(", ");
  if (given !== undefined) {
    const type = given.split(";")[0]?.trim().toLowerCase() ?? "";
    if (!INVOKE_TYPES.some((taken) => taken === type))
      throw new CliError(`--content-type ${given} is not one an endpoint takes: ${takes}`, 2);
    return given;
  }
  const type = CONTENT_TYPES[extname(path).toLowerCase()];
  if (!type)
    throw new CliError(
      `cannot tell ${basename(path)}'s content type from its name; pass --content-type (${takes})`,
      2,
    );
  return type;
}

/** At most what SageMaker takes in one request: 4 MB serverless, else 6 MB (real-time's). */
export function payloadLimit(mode: EndpointMode | undefined): number {
  return PAYLOAD_LIMIT_BYTES[mode ?? "realtime"];
}

function megabytes(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;
}

/** A file over the payload limit is refused here, before it is sent (the API checks too). */
export function refuseTooLarge(path: string, size: number, mode: EndpointMode | undefined): void {
  const limit = payloadLimit(mode);
  if (size <= limit) return;
  const takes =
    mode === "serverless"
      ? `a serverless endpoint takes at most ${megabytes(limit)} per request`
      : `an endpoint takes at most ${megabytes(limit)} per request (a serverless one ${megabytes(PAYLOAD_LIMIT_BYTES.serverless)})`;
  throw new CliError(
    `${basename(path)} is ${megabytes(size)}; ${takes}: send fewer rows, or run batch predictions with npx modeldrop predict`,
    2,
    { code: "file-too-large" },
  );
}

function endpointPath(model: string, mode?: EndpointMode): string {
  return `/models/${encodeURIComponent(model)}/endpoints${mode ? `/${mode}` : ""}`;
}

export async function listEndpoints(
  api: Api,
  filter: { model?: string | undefined; status?: string | undefined },
) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) query.set(k, v);
  return api.call(EndpointPage, "GET", `/endpoints${query.size > 0 ? `?${query}` : ""}`);
}

export async function getEndpoint(api: Api, model: string, mode: EndpointMode): Promise<View> {
  return api.call(EndpointView, "GET", endpointPath(model, mode));
}

/** The mode named by a flag, else the model's one existing endpoint's (`whichEndpoint`). */
export async function endpointMode(
  api: Api,
  model: string,
  flagged: EndpointMode | undefined,
): Promise<EndpointMode> {
  if (flagged) return flagged;
  return whichEndpoint(model, (await listEndpoints(api, { model })).endpoints);
}

export async function createEndpoint(api: Api, model: string, request: CreateRequest) {
  return api.call(EndpointView, "POST", endpointPath(model), request);
}

export async function promoteEndpoint(
  api: Api,
  model: string,
  mode: EndpointMode,
  version: number | undefined,
) {
  return api.call(
    EndpointView,
    "POST",
    `${endpointPath(model, mode)}/promote`,
    version === undefined ? {} : { version },
  );
}

function onApprovalPath(model: string): string {
  return `/models/${encodeURIComponent(model)}/deploy-on-approval`;
}

/** PUT (settings) or DELETE (undefined) the model's deploy-on-approval. */
export async function setOnApproval(
  api: Api,
  model: string,
  request: OnApprovalRequest | undefined,
) {
  return request
    ? api.call(DeployOnApprovalView, "PUT", onApprovalPath(model), request)
    : api.call(DeployOnApprovalView, "DELETE", onApprovalPath(model));
}

export async function deleteEndpoint(
  api: Api,
  model: string,
  mode: EndpointMode,
  reason: string | undefined,
) {
  return api.call(
    EndpointView,
    "DELETE",
    endpointPath(model, mode),
    reason === undefined ? {} : { reason },
  );
}

/**
 * Follows the endpoint until `done` says so, polling about every 2 s and writing each change of
 * status on `out` (stderr) with the time since it started following.
 */
export async function waitFor(
  api: Api,
  model: string,
  mode: EndpointMode,
  done: (view: View) => boolean,
  options: { out?: NodeJS.WritableStream; pollMs?: number } = {},
): Promise<View> {
  const out = options.out ?? process.stderr;
  const started = Date.now();
  let shown = "";
  for (;;) {
    const view = await getEndpoint(api, model, mode);
    const state = `${view.status}${view.updating ? ` to version ${view.updating.version}` : ""}`;
    if (state !== shown) {
      out.write(`  … ${state.padEnd(24)} ${duration((Date.now() - started) / 1000)}\n`);
      shown = state;
    }
    if (done(view)) return view;
    await sleep(options.pollMs ?? POLL_MS);
  }
}

/** The file as `invoke` sends it, after the checks that need no server: its type and size. */
export async function invocationBody(
  path: string,
  options: { mode?: EndpointMode | undefined; contentType?: string | undefined },
): Promise<Blob> {
  const type = contentTypeFor(path, options.contentType);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new CliError(`${path} cannot be read`, 2, { code: "unreadable-file" });
  }
  refuseTooLarge(path, size, options.mode);
  return openAsBlob(path, { type });
}

/** POST /models/{name}/invoke: the body as it is; without a mode the API picks the endpoint. */
export async function invoke(api: Api, model: string, body: Blob, mode: EndpointMode | undefined) {
  const query = mode ? `?mode=${mode}` : "";
  return api.call(Invocation, "POST", `/models/${encodeURIComponent(model)}/invoke${query}`, body);
}

// ---- what the commands print ------------------------------------------------------------

/** `$12.50`, `$0.115`, `$0.0384`, `<$0.0001`: cents, or up to four decimals under a dollar. */
function usd(value: number | null): string {
  if (value === null) return "unpriced";
  if (value > 0 && value < 0.0001) return "<$0.0001";
  return `$${value >= 1 ? value.toFixed(2) : value.toFixed(4).replace(/0{1,2}$/, "")}`;
}

function settingsText(view: Pick<View, "settings" | "idleTimeoutMinutes">): string {
  const s = view.settings;
  const size =
    s.mode === "serverless"
      ? `${s.memorySizeMb} MB, at most ${s.maxConcurrency} requests at once`
      : `${s.instanceCount} × ${s.instanceType}`;
  const idle =
    view.idleTimeoutMinutes === 0
      ? "never deleted for being idle"
      : `deleted after ${view.idleTimeoutMinutes} minutes without an invocation`;
  return `${size}; ${idle}`;
}

/** What a model's deploy-on-approval does, or that it has none. */
export function onApprovalText(view: z.output<typeof DeployOnApprovalView>): string {
  const setting = view.deployOnApproval;
  if (!setting) return `model ${view.modelName} does not deploy on approval`;
  return `model ${view.modelName} serves each newly Approved version on its ${setting.mode} endpoint (${settingsText(setting)}); set by ${setting.setBy} at ${setting.setAt}`;
}

/** `endpoint churn serverless: InService, version 3`. */
export function headline(view: View): string {
  const updating = view.updating ? ` (updating to version ${view.updating.version})` : "";
  return `endpoint ${view.modelName} ${view.mode}: ${view.status}, version ${view.version}${updating}`;
}

/** What was asked for, as `create` prints it: the status, the version and the settings. */
export function asked(view: View): string {
  return `${headline(view)} (${settingsText(view)})`;
}

/** Columns padded to their widest cell; the last one as it is. */
function table(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** `endpoint list`: one line per endpoint, in the API's order (newest first). */
export function endpointTable(endpoints: readonly View[]): string[] {
  if (endpoints.length === 0)
    return ["no endpoints (create one with: npx modeldrop endpoint create <model>)"];
  return table([
    ["MODEL", "MODE", "STATUS", "VERSION", "INVOCATIONS", "LAST INVOKED", "$/HOUR", "COST SO FAR"],
    ...endpoints.map((e) => [
      e.modelName,
      e.mode,
      e.status,
      `v${e.version}${e.updating ? ` → v${e.updating.version}` : ""}`,
      String(e.invocations),
      e.lastInvokedAt ?? "never",
      usd(e.cost.hourlyUsd),
      usd(e.cost.usd),
    ]),
  ]);
}

/** `endpoint show`: its details, settings, cost with its basis, and history. */
export function endpointDetails(view: View): string {
  const lines = [headline(view), `  name:       ${view.name}`];
  lines.push(`  settings:   ${settingsText(view)}`);
  if (view.failureReason) lines.push(`  failure:    ${view.failureReason}`);
  lines.push(`  created:    ${view.createdAt} by ${view.createdBy}`);
  if (view.inServiceAt) lines.push(`  in service: ${view.inServiceAt}`);
  if (view.deletedAt)
    lines.push(
      `  deleted:    ${view.deletedAt}${view.deletion ? ` by ${view.deletion.by}: ${view.deletion.reason}` : ""}`,
    );
  lines.push(
    `  invoked:    ${view.invocations} time${view.invocations === 1 ? "" : "s"}${view.lastInvokedAt ? `, last at ${view.lastInvokedAt}` : ""}`,
  );
  const hourly = view.cost.hourlyUsd === null ? "unpriced" : `${usd(view.cost.hourlyUsd)} an hour`;
  lines.push(
    `  cost:       ${usd(view.cost.usd)} ${view.status === "Deleted" ? "in all" : `so far, ${hourly} while it exists`}`,
    `              ${view.cost.basis}`,
  );
  if (view.status !== "Deleted")
    lines.push(
      `  invoke:     npx modeldrop invoke ${view.modelName} rows.csv --${view.mode} (POST ${view.invokeUrl})`,
    );
  lines.push("  history:");
  for (const h of view.history)
    lines.push(
      `    ${h.at}  ${h.event}${h.version === undefined ? "" : ` v${h.version}`}${h.by ? ` by ${h.by}` : ""}${h.detail ? `: ${h.detail}` : ""}`,
    );
  return lines.join("\n");
}

/**
 * A promotion's outcome from the endpoint after it (`before`: the version it served when
 * asked): under way, serving the new version, or kept on the old one with SageMaker's reason.
 */
export function promotion(
  view: View,
  before: number,
): { done: boolean; promoted: boolean; text: string } {
  const what = `endpoint ${view.modelName} ${view.mode}`;
  if (view.status === "Updating")
    return {
      done: false,
      promoted: false,
      text: `${what}: Updating from version ${before} to version ${view.updating?.version ?? "?"}; version ${before} serves until the new one is in service`,
    };
  if (view.status === "InService" && view.version !== before)
    return {
      done: true,
      promoted: true,
      text: `${what} now serves version ${view.version} (it served version ${before})`,
    };
  const reason = view.failureReason ?? "no reason given";
  if (view.status === "InService")
    return { done: true, promoted: false, text: `${what} kept version ${before}: ${reason}` };
  return { done: true, promoted: false, text: `${what} is ${view.status}: ${reason}` };
}

/** The error of an endpoint that did not come into service, with SageMaker's reason. */
export function endpointFailed(view: View): CliError {
  return new CliError(
    `the ${view.mode} endpoint of ${view.modelName} is ${view.status}: ${view.failureReason ?? "no reason given"}`,
    1,
    { code: "endpoint-failed" },
  );
}

/** `deleted; it cost $0.0012 in all (basis)`, or where the deletion stands. */
export function deletion(view: View): string {
  if (view.status !== "Deleted") return `${headline(view)}; it is being deleted`;
  return `endpoint ${view.modelName} ${view.mode}: Deleted; it cost ${usd(view.cost.usd)} in all (${view.cost.basis})`;
}

/** `invoke`'s answer: one prediction per line as JSON, or the model's text. */
export function invocationLines(answer: z.output<typeof Invocation>): string[] {
  if (answer.predictions) return answer.predictions.map((p) => JSON.stringify(p));
  return [(answer.output ?? "").replace(/\n$/, "")];
}
