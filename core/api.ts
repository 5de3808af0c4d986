/**
 * The REST API's contract: every request and response body as a zod schema, and the route
 * table that both the handlers and `GET /openapi.json` are built from (one source of truth).
 */
import { z } from "zod";
import {
  ENDPOINT_MODES,
  ENDPOINT_STATUSES,
  type EndpointMode,
  HOSTING_INSTANCE_TYPES,
  SERVERLESS_MEMORY_MB,
} from "./endpoints.js";
import { RunOptions } from "./options.js";
import { SearchSummary } from "./run-record.js";
import { JOB_STEP_NAME, RUN_STATUSES } from "./runs.js";

// ---- shared pieces ----------------------------------------------------------------------

const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/, "must be a run id such as 01JD3M2X4Y5Z6A7B8C9D0E1F2G")
  .describe("a run id");

export const ModelName = z
  .string()
  .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, "must be 1-63 letters, digits or hyphens")
  .describe("a registry model name");

/** `inbox/data.csv` or `s3://<data bucket>/inbox/data.csv`. */
const ObjectLocation = z
  .string()
  .min(1)
  .max(1024)
  .describe("an object key in the data bucket, or its s3:// URI");

export const VersionId = z.string().min(1).max(1024).describe("an S3 object version id");

/** RFC 9457 problem document; `code` is stable, `detail` is for people. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  code: z.string(),
  detail: z.string(),
  field: z.string().optional().describe("the request field at fault, for 400"),
});
export type Problem = z.infer<typeof Problem>;

/** Every cursor this API gives out is base64url, so it travels in a URL as it is. */
const Cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,2048}$/, "must be the `next` value of an earlier answer")
  .describe("the `next` value of the previous page");
const Limit = z.coerce.number().int().min(1).max(100).default(20);

const Link = z
  .object({ uri: z.string(), url: z.string().optional() })
  .describe("an S3 location and, when it exists, a presigned GET URL valid for at least an hour");

const LinkedObject = z
  .object({ name: z.string(), uri: z.string(), url: z.string() })
  .describe("one object of a run's outputs, with a presigned GET URL valid for at least an hour");

const StepView = z.object({
  job: z.string().optional(),
  instanceType: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  seconds: z.number().optional(),
});

const Progress = z.object({
  step: z.string(),
  done: z.number(),
  total: z.number(),
  message: z.string(),
  at: z.string(),
});

const Gate = z.object({
  metric: z.string(),
  threshold: z.number(),
  value: z.number(),
  direction: z.enum(["higher", "lower"]),
  passed: z.boolean(),
});

const Cost = z
  .object({
    totalUsd: z.number(),
    steps: z.array(
      z.object({
        step: z.string(),
        kind: z.string(),
        instanceType: z.string(),
        seconds: z.number(),
        usd: z.number().nullable(),
      }),
    ),
    unpriced: z.array(z.string()),
    priceTable: z.object({ date: z.string(), region: z.string() }),
  })
  .describe("SageMaker job time priced from the dated table in core/prices.json");

const Failure = z.object({
  step: z.string(),
  error: z.string(),
  reason: z.string(),
  log: z.object({ group: z.string(), streamPrefix: z.string() }).optional(),
});

export const NoticeDeliveryView = z
  .object({
    channel: z
      .string()
      .describe(
        '"email", "slack", or the SNS protocol of another subscription ("lambda", "https"…)',
      ),
    destination: z
      .string()
      .optional()
      .describe("the address, function or URL delivered to (never the Slack webhook URL)"),
    attempt: z.int(),
    at: z.string(),
    outcome: z.enum(["delivered", "failed", "retrying"]),
    detail: z.string().describe("the receiving side's answer, or why it could not be reached"),
  })
  .describe("one delivery attempt of the run's notice");

const NoticeView = z
  .object({
    messageId: z.string().optional().describe("the SNS MessageId of the published notice"),
    publishedAt: z.string().optional(),
    deliveries: z.array(NoticeDeliveryView).describe("every attempt, oldest first"),
  })
  .describe(
    "the run's notice: the Slack notifier's attempts and the topic's delivery-status log for it",
  );

export const RunSummary = z.object({
  id: z.string(),
  kind: z.enum(["train", "predict"]),
  status: z.enum(RUN_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  dataset: z.object({ key: z.string(), versionId: z.string(), name: z.string() }),
  modelName: z.string().optional(),
  modelVersion: z.int().optional(),
  step: z.string().optional(),
  // The running job's progress is not on the run record (it is read from the job's log), so a
  // listing leaves it out rather than read one log per run: GET /runs/{id} has it.
  costUsd: z.number().optional().describe("the run's SageMaker cost so far, once priced"),
  seconds: z.number().optional().describe("from creation to end; absent while the run is on"),
  metric: z
    .object({ name: z.string(), value: z.number() })
    .optional()
    .describe("the metric the quality gate judged, once the run was evaluated"),
  url: z.string().describe("this run's API path"),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunDetail = RunSummary.extend({
  options: z.record(z.string(), z.unknown()),
  optionsSource: z.string(),
  notes: z.array(z.string()),
  retryOf: z.string().optional(),
  notifiedAt: z
    .string()
    .optional()
    .describe("when the run's one notice went out: its report and links are final from then"),
  notice: NoticeView.optional(),
  steps: z.record(z.string(), StepView),
  progress: Progress.optional().describe("the running job's latest progress line"),
  metrics: z.record(z.string(), z.number()).optional(),
  gate: Gate.optional(),
  model: z
    .object({
      name: z.string(),
      version: z.int().optional(),
      approval: z.string().optional(),
      artifact: z.string().optional(),
    })
    .optional(),
  cost: Cost.optional(),
  failure: Failure.optional(),
  search: SearchSummary.optional().describe(
    "the candidates the run's search compared on validation, and why the winner won",
  ),
  lineage: z.record(z.string(), z.unknown()).optional(),
  code: z
    .object({ name: z.string(), version: z.int(), sha256: z.string() })
    .optional()
    .describe("the registered code (your own scripts) the run runs"),
  links: z.object({
    model: Link.optional(),
    evaluation: Link.optional(),
    predictions: Link.extend({
      files: z
        .array(LinkedObject)
        .optional()
        .describe("the files in the predictions folder (one `<input>.out` per input file)"),
    }).optional(),
    report: Link.optional(),
    plots: z
      .array(LinkedObject)
      .optional()
      .describe("the evaluation's plots, in key order, once the run has metrics"),
  }),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const ModelVersionView = z.object({
  modelName: z.string(),
  version: z.int(),
  approval: z.enum(["Approved", "Pending", "Rejected"]),
  artifact: z.string(),
  runId: z.string(),
  metrics: z.record(z.string(), z.number()),
  createdAt: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  reason: z.string().optional(),
  schema: z
    .object({
      task: z.string(),
      target: z.string(),
      features: z.array(z.object({ name: z.string(), kind: z.string() })),
    })
    .optional()
    .describe("what the version takes and predicts"),
  schemaChange: z
    .string()
    .optional()
    .describe("how its schema differs from the version before it (it was kept Pending)"),
});
export type ModelVersionView = z.infer<typeof ModelVersionView>;

/** A registered code version as the API answers it: what runs, and where its archive is. */
export const CodeVersionView = z.object({
  codeName: z.string(),
  version: z.int(),
  sha256: z
    .string()
    .describe("of the normalized sourcedir.tar.gz; the same files give the same hash"),
  sourcedir: z.string().describe("s3://<bucket>/code/<sha256>/sourcedir.tar.gz"),
  manifest: z.record(z.string(), z.unknown()).describe("its modeldrop.json, defaults filled in"),
  files: z.int(),
  bytes: z.int(),
  createdAt: z.string(),
});
export type CodeVersionView = z.infer<typeof CodeVersionView>;

export const CodeSummary = z.object({
  name: z.string(),
  latestVersion: z.int(),
  url: z.string(),
});

export const ModelSummary = z.object({
  name: z.string(),
  latestVersion: z.int(),
  approvedVersion: z.int().optional().describe("the newest Approved version"),
  url: z.string(),
});

const EndpointSettingsView = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("serverless"),
    memorySizeMb: z.int(),
    maxConcurrency: z.int(),
  }),
  z.object({ mode: z.literal("realtime"), instanceType: z.string(), instanceCount: z.int() }),
]);

export const EndpointView = z.object({
  modelName: z.string(),
  mode: z.enum(ENDPOINT_MODES),
  name: z.string().describe("the SageMaker endpoint's name (InvokeEndpoint takes it)"),
  status: z.enum(ENDPOINT_STATUSES),
  version: z.int().describe("the version it serves (or is being created with)"),
  settings: EndpointSettingsView,
  idleTimeoutMinutes: z.int().describe("deleted after this long without an invocation; 0: never"),
  updating: z
    .object({ version: z.int() })
    .optional()
    .describe("a promotion under way: the version the endpoint is being updated to"),
  failureReason: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  inServiceAt: z.string().optional(),
  deletedAt: z.string().optional(),
  deletion: z.object({ by: z.string(), reason: z.string() }).optional(),
  lastInvokedAt: z
    .string()
    .optional()
    .describe("the last invocation through this API (direct InvokeEndpoint calls are not seen)"),
  invocations: z.int(),
  cost: z
    .object({
      usd: z.number().describe("from creation until deletion (or now)"),
      hourlyUsd: z
        .number()
        .nullable()
        .describe("what an hour of it costs while it exists: 0 for serverless, null when unpriced"),
      basis: z.string(),
    })
    .describe("priced from the dated table in core/prices.json"),
  history: z.array(
    z.object({
      at: z.string(),
      event: z.string(),
      version: z.int().optional(),
      by: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
  url: z.string().describe("this endpoint's path in the API"),
  invokeUrl: z.string().describe("where to POST rows for predictions"),
});
export type EndpointView = z.infer<typeof EndpointView>;

// ---- requests ---------------------------------------------------------------------------

export const StartRunBody = z
  .strictObject({
    input: ObjectLocation,
    versionId: VersionId.optional().describe("default: the object's current version"),
    options: RunOptions.optional(),
  })
  .meta({ examples: [{ input: "inbox/churn.csv", options: { target: "churned" } }] });

export const ListRunsQuery = z.strictObject({
  status: z.enum(RUN_STATUSES).optional(),
  model: ModelName.optional(),
  dataset: z.string().min(1).max(1024).optional().describe("the dataset's file name"),
  kind: z.enum(["train", "predict"]).optional(),
  limit: Limit,
  cursor: Cursor.optional(),
});

/** The built-in steps that run a job; a run with its own scripts adds its processing steps. */
export const LOG_STEPS = ["preprocess", "train", "evaluate", "transform"] as const;

/** A step that may run a job: a built-in one or a processing step a modeldrop.json names. */
export const JobStepName = z.string().regex(JOB_STEP_NAME, "must be a step name");

export const LogsQuery = z.strictObject({
  step: JobStepName.optional().describe(
    `${LOG_STEPS.join(", ")} or one of the run's own processing steps; default: the running or last job's step`,
  ),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: Cursor.optional(),
});

export const ListInboxQuery = z.strictObject({
  prefix: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe("only keys under inbox/<prefix> (a folder such as `images/`, or a name's start)"),
  limit: Limit,
  cursor: Cursor.optional(),
});

export const UploadBody = z
  .strictObject({
    fileName: z
      .string()
      .min(1)
      .max(200)
      .describe("the dataset's file name, kept as inbox/<fileName>"),
    size: z
      .int()
      .min(0)
      .optional()
      .describe("bytes, when known: an empty file or one over the cap is refused early"),
    purpose: z
      .enum(["train", "predict", "code"])
      .default("train")
      .describe(
        "train: into inbox/, which starts a run; predict: into inputs/ for POST /predictions; code: an archive of your scripts into code-uploads/ for POST /code/{name}/versions",
      ),
    options: RunOptions.optional().describe("run options, stored as the object's metadata (train)"),
  })
  .meta({
    examples: [
      { fileName: "churn.csv", size: 48213, purpose: "train", options: { target: "churned" } },
      { fileName: "customers.csv", purpose: "predict" },
    ],
  });

const DecisionBody = z.strictObject({
  by: z.string().min(1).max(128).optional().describe("who decides (default: the token's owner)"),
  reason: z.string().max(1000).optional(),
});

export const PredictBody = z
  .strictObject({
    modelName: ModelName,
    version: z.int().min(1).optional().describe("default: the newest Approved version"),
    input: ObjectLocation,
    versionId: VersionId.optional(),
    instanceType: RunOptions.shape.instanceTypes.unwrap().shape.transform,
  })
  .meta({ examples: [{ modelName: "churn", input: "inputs/customers.csv" }] });

const REALTIME_ONLY = ["instanceType", "instanceCount"] as const;
const SERVERLESS_ONLY = ["memorySizeMb", "maxConcurrency"] as const;

/** An endpoint's settings, as a create and deploy-on-approval take them. */
const endpointSettingsFields = {
  mode: z
    .enum(ENDPOINT_MODES)
    .default("serverless")
    .describe(
      "serverless: no instance while idle, billed per request's GB-seconds; realtime: instances billed by the hour while the endpoint exists",
    ),
  memorySizeMb: z
    .literal([...SERVERLESS_MEMORY_MB])
    .optional()
    .describe("serverless: memory, 1024-6144 MB in steps of 1024; default 2048"),
  maxConcurrency: z
    .int()
    .min(1)
    .max(200)
    .optional()
    .describe("serverless: requests served at once; default 5"),
  instanceType: z
    .enum(HOSTING_INSTANCE_TYPES as [string, ...string[]])
    .optional()
    .describe(
      "realtime: the instance type (the ones core/prices.json prices); default ml.m5.large",
    ),
  instanceCount: z.int().min(1).max(10).optional().describe("realtime: instances; default 1"),
  idleTimeoutMinutes: z
    .int()
    .min(0)
    .max(43_200)
    .optional()
    .describe(
      "deleted after this many minutes without an invocation through this API; 0: never; default 60",
    ),
};

type SettingsBody = { mode: EndpointMode } & Partial<
  Record<(typeof REALTIME_ONLY | typeof SERVERLESS_ONLY)[number], unknown>
>;

/** A setting of the other mode is refused, naming the field and what this mode takes. */
function oneModesSettings(body: SettingsBody, context: z.RefinementCtx): void {
  const wrong = body.mode === "serverless" ? REALTIME_ONLY : SERVERLESS_ONLY;
  for (const field of wrong)
    if (body[field] !== undefined)
      context.addIssue({
        code: "custom",
        path: [field],
        message: `is for ${body.mode === "serverless" ? "realtime" : "serverless"} endpoints; a ${body.mode} endpoint takes ${(body.mode === "serverless" ? SERVERLESS_ONLY : REALTIME_ONLY).join(" and ")}`,
        input: body[field],
      });
}

const SETTINGS_EXAMPLES = [
  { mode: "serverless", memorySizeMb: 2048 },
  { mode: "realtime", instanceType: "ml.m5.large", idleTimeoutMinutes: 120 },
];

export const CreateEndpointBody = z
  .strictObject({
    version: z
      .int()
      .min(1)
      .optional()
      .describe("default: the newest Approved version; Pending and Rejected ones are refused"),
    ...endpointSettingsFields,
  })
  .superRefine(oneModesSettings)
  .meta({ examples: SETTINGS_EXAMPLES });

export const DeployOnApprovalBody = z
  .strictObject(endpointSettingsFields)
  .superRefine(oneModesSettings)
  .meta({ examples: SETTINGS_EXAMPLES });

export const PromoteEndpointBody = z.strictObject({
  version: z
    .int()
    .min(1)
    .optional()
    .describe("an Approved version, newer or older (a rollback); default: the newest Approved one"),
});

export const DeleteEndpointBody = z.strictObject({
  reason: z.string().max(1000).optional().describe("recorded with the deletion and in its notice"),
});

export const ListEndpointsQuery = z.strictObject({
  model: ModelName.optional(),
  status: z.enum(ENDPOINT_STATUSES).optional(),
});

export const InvokeQuery = z.strictObject({
  mode: z
    .enum(ENDPOINT_MODES)
    .optional()
    .describe("which endpoint, when the model has both; default: realtime, else serverless"),
});

/** What POST /models/{name}/invoke takes as its body, as it is. */
export const INVOKE_TYPES = [
  "text/csv",
  "application/json",
  "application/jsonlines",
  "image/jpeg",
  "image/png",
] as const;

// ---- responses --------------------------------------------------------------------------

export const Accepted = z.object({ id: z.string(), status: z.enum(RUN_STATUSES), url: z.string() });

export const RunPage = z.object({
  runs: z.array(RunSummary),
  next: z.string().optional().describe("pass as `cursor` for the next page; absent on the last"),
});

export const LogPage = z.object({
  runId: z.string(),
  step: z.string(),
  job: z.string(),
  logGroup: z.string(),
  events: z.array(z.object({ timestamp: z.number(), message: z.string() })),
  next: z.string().describe("pass as `cursor` to get what was logged after these events"),
});

export const Upload = z.object({
  url: z.string(),
  fields: z.record(z.string(), z.string()),
  key: z.string(),
  maxBytes: z.int(),
  expiresAt: z.string(),
});

export const InboxObject = z.object({
  key: z.string().describe("the object's key, as POST /runs takes it as `input`"),
  name: z.string().describe("its file name"),
  size: z.int(),
  lastModified: z.string(),
  versionId: VersionId.optional().describe(
    "not listed (S3 lists keys, not versions): POST /runs takes the current version",
  ),
});

export const InboxPage = z.object({
  objects: z.array(InboxObject),
  next: z
    .string()
    .optional()
    .describe(
      "pass as `cursor` for the next page; absent on the last. A page may hold fewer than `limit` objects, since option files are left out",
    ),
});

export const ModelPage = z.object({
  models: z.array(ModelSummary),
  next: z.string().optional(),
});

export const CodePage = z.object({ code: z.array(CodeSummary), next: z.string().optional() });

export const CodeDetail = z.object({ name: z.string(), versions: z.array(CodeVersionView) });

export const RegisterCodeBody = z
  .strictObject({
    upload: z
      .string()
      .min(1)
      .max(1024)
      .describe(
        "the key POST /uploads (purpose code) gave: a .tar.gz, .tar or .zip with modeldrop.json at its root",
      ),
  })
  .meta({ examples: [{ upload: "code-uploads/churn-scripts.tar.gz" }] });

export const EndpointPage = z.object({ endpoints: z.array(EndpointView) });

export const Invocation = z.object({
  modelName: z.string(),
  version: z.int(),
  mode: z.enum(ENDPOINT_MODES),
  endpoint: z.string(),
  predictions: z
    .array(z.unknown())
    .optional()
    .describe(
      "one per row, in order, as batch predictions give them: {prediction, probabilities} (or {prediction} for regression); absent when the model answered something other than JSON",
    ),
  output: z
    .string()
    .optional()
    .describe("the model's answer as text, when it is not JSON (a script of your own)"),
  contentType: z.string().describe("what the model answered"),
});

export const DeployOnApprovalSetting = z
  .object({
    mode: z.enum(ENDPOINT_MODES),
    settings: EndpointSettingsView,
    idleTimeoutMinutes: z.int(),
    setBy: z.string(),
    setAt: z.string(),
  })
  .describe(
    "each version that becomes the newest Approved one is served on this endpoint: created when there is none, promoted when it is InService",
  );

export const ModelDetail = z.object({
  name: z.string(),
  approvedVersion: z.int().optional(),
  deployOnApproval: DeployOnApprovalSetting.optional(),
  versions: z.array(ModelVersionView),
});

export const DeployOnApprovalView = z.object({
  modelName: z.string(),
  deployOnApproval: DeployOnApprovalSetting.nullable().describe("null: not set"),
});

const Health = z.object({ status: z.literal("ok"), service: z.literal("modeldrop") });

// ---- the route table --------------------------------------------------------------------

export interface RouteSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  summary: string;
  auth: boolean;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Status → body schema (problems are added for every authenticated route). */
  responses: Record<number, z.ZodType | null>;
  /** Extra request headers. */
  headers?: Record<string, { description: string }>;
  /** A body taken as it comes (not JSON): the media types it may have, and at most how many bytes. */
  raw?: { types: readonly string[]; maxBytes: number; description: string };
}

const runIdParam = { id: RunId };
const modelParams = { name: ModelName, version: z.coerce.number().int().min(1) };
const endpointParams = { name: ModelName, mode: z.enum(ENDPOINT_MODES) };

export const ROUTES = {
  health: {
    method: "GET",
    path: "/health",
    summary: "Liveness; the only route without a token",
    auth: false,
    responses: { 200: Health },
  },
  openapi: {
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 description",
    auth: true,
    responses: { 200: z.record(z.string(), z.unknown()) },
  },
  startRun: {
    method: "POST",
    path: "/runs",
    summary: "Start a training run on an object already in the bucket",
    auth: true,
    body: StartRunBody,
    headers: {
      "Idempotency-Key": {
        description: "the same key with the same body gives the same run (1-200 characters)",
      },
    },
    responses: { 202: Accepted },
  },
  listRuns: {
    method: "GET",
    path: "/runs",
    summary: "Runs, newest first, with filters and a cursor",
    auth: true,
    query: ListRunsQuery,
    responses: { 200: RunPage },
  },
  getRun: {
    method: "GET",
    path: "/runs/{id}",
    summary: "One run's whole record with links to its outputs",
    auth: true,
    params: runIdParam,
    responses: { 200: RunDetail },
  },
  getRunLogs: {
    method: "GET",
    path: "/runs/{id}/logs",
    summary: "A run job's log, with a cursor to follow it",
    auth: true,
    params: runIdParam,
    query: LogsQuery,
    responses: { 200: LogPage },
  },
  cancelRun: {
    method: "POST",
    path: "/runs/{id}/cancel",
    summary: "Stop a queued or running run (it ends STOPPED)",
    auth: true,
    params: runIdParam,
    responses: { 202: Accepted },
  },
  retryRun: {
    method: "POST",
    path: "/runs/{id}/retry",
    summary: "A new run on the same input and options, linked to this one",
    auth: true,
    params: runIdParam,
    responses: { 202: Accepted },
  },
  createUpload: {
    method: "POST",
    path: "/uploads",
    summary: "A presigned POST into inbox/ with a size cap and the options as metadata",
    auth: true,
    body: UploadBody,
    responses: { 201: Upload },
  },
  listInbox: {
    method: "GET",
    path: "/inbox",
    summary:
      "Datasets already in inbox/, in S3's key order (S3 cannot list newest first), without option sidecars, folder markers or empty objects",
    auth: true,
    query: ListInboxQuery,
    responses: { 200: InboxPage },
  },
  listModels: {
    method: "GET",
    path: "/models",
    summary: "Registered models",
    auth: true,
    query: z.strictObject({ limit: Limit, cursor: Cursor.optional() }),
    responses: { 200: ModelPage },
  },
  getModel: {
    method: "GET",
    path: "/models/{name}",
    summary: "A model's versions with metrics and approval, newest first",
    auth: true,
    params: { name: ModelName },
    responses: { 200: ModelDetail },
  },
  approveModel: {
    method: "POST",
    path: "/models/{name}/versions/{version}/approve",
    summary: "Approve a version (predictions use the newest Approved one)",
    auth: true,
    params: modelParams,
    body: DecisionBody,
    responses: { 200: ModelVersionView },
  },
  rejectModel: {
    method: "POST",
    path: "/models/{name}/versions/{version}/reject",
    summary: "Reject a version",
    auth: true,
    params: modelParams,
    body: DecisionBody,
    responses: { 200: ModelVersionView },
  },
  setDeployOnApproval: {
    method: "PUT",
    path: "/models/{name}/deploy-on-approval",
    summary:
      "Serve each version that becomes the model's newest Approved one on an endpoint of these settings",
    auth: true,
    params: { name: ModelName },
    body: DeployOnApprovalBody,
    responses: { 200: DeployOnApprovalView },
  },
  clearDeployOnApproval: {
    method: "DELETE",
    path: "/models/{name}/deploy-on-approval",
    summary: "Stop deploying on approval (endpoints already made stay)",
    auth: true,
    params: { name: ModelName },
    responses: { 200: DeployOnApprovalView },
  },
  listCode: {
    method: "GET",
    path: "/code",
    summary: "Registered code (your own scripts) by name",
    auth: true,
    query: z.strictObject({ limit: Limit, cursor: Cursor.optional() }),
    responses: { 200: CodePage },
  },
  getCode: {
    method: "GET",
    path: "/code/{name}",
    summary: "A code name's versions, newest first",
    auth: true,
    params: { name: ModelName },
    responses: { 200: CodeDetail },
  },
  registerCode: {
    method: "POST",
    path: "/code/{name}/versions",
    summary:
      "Register an uploaded archive of scripts as the next version of a name (the same files give back their version: 200)",
    auth: true,
    params: { name: ModelName },
    body: RegisterCodeBody,
    responses: { 200: CodeVersionView, 201: CodeVersionView },
  },
  startPrediction: {
    method: "POST",
    path: "/predictions",
    summary: "Batch predictions with a registered model version on an input object",
    auth: true,
    body: PredictBody,
    headers: {
      "Idempotency-Key": { description: "as for POST /runs" },
    },
    responses: { 202: Accepted },
  },
  createEndpoint: {
    method: "POST",
    path: "/models/{name}/endpoints",
    summary:
      "Serve an Approved version on a serverless or real-time SageMaker endpoint (one of each mode per model)",
    auth: true,
    params: { name: ModelName },
    body: CreateEndpointBody,
    responses: { 202: EndpointView },
  },
  listEndpoints: {
    method: "GET",
    path: "/endpoints",
    summary: "Every endpoint, deleted ones too, newest first, with its status, version and cost",
    auth: true,
    query: ListEndpointsQuery,
    responses: { 200: EndpointPage },
  },
  getEndpoint: {
    method: "GET",
    path: "/models/{name}/endpoints/{mode}",
    summary: "A model's endpoint of one mode, with its history and cost so far",
    auth: true,
    params: endpointParams,
    responses: { 200: EndpointView },
  },
  promoteEndpoint: {
    method: "POST",
    path: "/models/{name}/endpoints/{mode}/promote",
    summary:
      "Serve another Approved version on the endpoint without downtime (newer, or older to roll back)",
    auth: true,
    params: endpointParams,
    body: PromoteEndpointBody,
    responses: { 202: EndpointView },
  },
  deleteEndpoint: {
    method: "DELETE",
    path: "/models/{name}/endpoints/{mode}",
    summary: "Delete the endpoint (its record stays, Deleted, with what it cost)",
    auth: true,
    params: endpointParams,
    body: DeleteEndpointBody,
    responses: { 202: EndpointView },
  },
  invokeModel: {
    method: "POST",
    path: "/models/{name}/invoke",
    summary:
      "Predictions for rows (CSV with or without a header, JSON rows) or an image from the model's endpoint",
    auth: true,
    params: { name: ModelName },
    query: InvokeQuery,
    raw: {
      types: INVOKE_TYPES,
      maxBytes: 6 * 1024 * 1024,
      description:
        "CSV rows (a header naming the columns, or none: the training file's columns in order), JSON rows (a list of objects keyed by column name), JSON lines, or one image. At most 6 MB (4 MB for a serverless endpoint, SageMaker's limits); on AWS an image is sent to the function base64-encoded, which Lambda's 6 MB request limit caps at about 4.4 MB",
    },
    responses: { 200: Invocation },
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
