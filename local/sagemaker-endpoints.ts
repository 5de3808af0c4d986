// The local SageMaker's hosting: endpoint configs, endpoints and sagemaker-runtime's
// InvokeEndpoint. Each endpoint is one long-lived serving process (ml/modeldrop_ml/serve.py) under
// the serving container's contract: the model unpacked at /opt/ml/model (in a namespace of its
// own, as jobs run), its code at /opt/ml/code, the model's container environment, `/ping` and
// `/invocations` on a loopback port (SAGEMAKER_BIND_TO_PORT) that nothing but this file calls.
// Status changes follow SageMaker's (Creating → InService or Failed; Updating, which keeps the
// old process serving until the new one answers /ping; Deleting) and are sent to EventBridge as
// "SageMaker Endpoint State Change" events. Endpoints outlive a restart of the local cloud: the
// processes are started again and an endpoint that was InService comes back InService.
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { Agent, type IncomingMessage, request, type ServerResponse } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord, readBody, sendJsonError } from "./http.js";
import { optionalNumber, optionalString, requireString } from "./json-service.js";
import type { LogsService } from "./logs.js";
import type { ObjectStore } from "./s3-store.js";
import { downloadObject, parseS3Uri } from "./s3-uri.js";
import {
  freshFolder,
  inJobView,
  jobEnvironment,
  jobView,
  killGroup,
  MESSAGE_LIMIT,
  type RunnerContext,
  type RunningJob,
  runProcess,
  unpackTarGz,
} from "./sagemaker-runner.js";

type Record_ = Record<string, unknown>;

export interface EndpointHostingOptions {
  /** The local SageMaker's state folder. */
  root: string;
  region: string;
  account: string;
  store: ObjectStore;
  logs: LogsService;
  python: string;
  context: RunnerContext;
  namespaces: boolean;
  /** DescribeModel's answer, or the AwsError SageMaker gives for an unknown model. */
  model: (name: string) => Record_;
  /** Where status-change events go (EventBridge). */
  onEvent?: (event: Record_) => void;
}

type EndpointStatus = "Creating" | "InService" | "Updating" | "Failed" | "Deleting";

interface EndpointRecord {
  describe: Record_;
  /** The serving process's group, so a restart can end one orphaned by a crash. */
  pid?: number;
  /** The config an update under way is deploying. */
  updatingTo?: string;
  /** The tags CreateEndpoint carried: every state-change event repeats them, as on AWS. */
  tags?: Record<string, string>;
}

/** A serving process that answers, or is being started. */
interface Server {
  configName: string;
  variant: string;
  port: number;
  job: RunningJob;
  agent: Agent;
  folder: string;
  /** Set when this file stopped it (an update replaced it, a delete, a shutdown). */
  retired: boolean;
}

/** SageMaker's payload limits: 6 MB for an instance-backed endpoint, 4 MB for a serverless one. */
const REALTIME_PAYLOAD = 6 * 1024 * 1024;
const SERVERLESS_PAYLOAD = 4 * 1024 * 1024;
/** A model container must answer an invocation within 60 seconds. */
const INVOCATION_TIMEOUT_MS = 60_000;
/** ContainerStartupHealthCheckTimeoutInSeconds when the variant leaves it out. */
const STARTUP_TIMEOUT_SECONDS = 600;
const PING_INTERVAL_MS = 50;
const LOG_GROUP = "/aws/sagemaker/Endpoints";
const FAILURE_LIMIT = MESSAGE_LIMIT;

/** A deployment that cannot go ahead, with the FailureReason the endpoint gets. */
class CannotServe extends Error {}

export class EndpointHosting {
  private readonly configs = new Map<string, Record_>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** The process serving each endpoint, by endpoint name. */
  private readonly servers = new Map<string, Server>();
  /** Deployments under way, by endpoint name: a delete or shutdown waits for them to settle. */
  private readonly deploying = new Map<string, Promise<void>>();
  /** Serving processes started and not yet answering /ping. */
  private readonly starting = new Set<Server>();
  /** Set by shutdown: a deployment cut short by it changes no endpoint's status. */
  private stopping = false;

  constructor(private readonly options: EndpointHostingOptions) {
    for (const [name, config] of Object.entries(
      readJsonFile(this.file("endpoint-configs.json"), {}) as Record<string, Record_>,
    ))
      this.configs.set(name, config);
    for (const [name, record] of Object.entries(
      readJsonFile(this.file("endpoints.json"), {}) as Record<string, EndpointRecord>,
    ))
      this.endpoints.set(name, record);
  }

  readonly operations = {
    CreateEndpointConfig: (input: Record_) => this.createConfig(input),
    DescribeEndpointConfig: (input: Record_) =>
      this.config(requireString(input, "EndpointConfigName")),
    DeleteEndpointConfig: (input: Record_) => {
      const name = requireString(input, "EndpointConfigName");
      this.config(name);
      this.configs.delete(name);
      this.saveConfigs();
      return {};
    },
    ListEndpointConfigs: (input: Record_) => ({
      EndpointConfigs: listed([...this.configs.values()], input, "EndpointConfigName").map((c) => ({
        EndpointConfigName: c.EndpointConfigName,
        EndpointConfigArn: c.EndpointConfigArn,
        CreationTime: c.CreationTime,
      })),
    }),
    CreateEndpoint: (input: Record_) => this.createEndpoint(input),
    DescribeEndpoint: (input: Record_) =>
      this.endpoint(requireString(input, "EndpointName")).describe,
    UpdateEndpoint: (input: Record_) => this.updateEndpoint(input),
    DeleteEndpoint: (input: Record_) => this.deleteEndpoint(requireString(input, "EndpointName")),
    ListEndpoints: (input: Record_) => {
      const status = optionalString(input, "StatusEquals");
      const records = [...this.endpoints.values()]
        .map((r) => r.describe)
        .filter((d) => !status || d.EndpointStatus === status);
      return {
        Endpoints: listed(records, input, "EndpointName").map((d) => ({
          EndpointName: d.EndpointName,
          EndpointArn: d.EndpointArn,
          CreationTime: d.CreationTime,
          LastModifiedTime: d.LastModifiedTime,
          EndpointStatus: d.EndpointStatus,
        })),
      };
    },
  };

  /** Whether the ARN is one of these endpoints or endpoint configs (AddTags and ListTags accept them). */
  owns(arn: string): boolean {
    return (
      [...this.endpoints.values()].some((r) => r.describe.EndpointArn === arn) ||
      [...this.configs.values()].some((c) => c.EndpointConfigArn === arn)
    );
  }

  /** Whether a request is sagemaker-runtime's (both APIs sign as "sagemaker"). */
  static isRuntimeRequest(path: string): boolean {
    return /^\/endpoints\/[^/]+\/invocations$/.test(path);
  }

  /** sagemaker-runtime's InvokeEndpoint: the body to the endpoint's process, its answer back. */
  async invoke(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      if (req.method !== "POST")
        throw new AwsError(
          "UnknownOperationException",
          `${req.method} ${path} is not an operation`,
        );
      const name = decodeURIComponent(path.split("/")[2] ?? "");
      const record = this.endpoints.get(name);
      const status = record?.describe.EndpointStatus;
      // An endpoint served again (after a restart, or its process's crash) answers once it is up.
      if (status === "InService" && !this.servers.has(name)) await this.deploying.get(name);
      const server = this.servers.get(name);
      if (!record || (status !== "InService" && status !== "Updating") || !server)
        throw new AwsError(
          "ValidationError",
          `Endpoint ${name} of account ${this.options.account} not found.`,
        );
      const limit = serverless(this.config(String(record.describe.EndpointConfigName)))
        ? SERVERLESS_PAYLOAD
        : REALTIME_PAYLOAD;
      const body = await readBody(
        req,
        limit,
        () =>
          new AwsError(
            "ValidationError",
            `Request payload is larger than the ${limit / 1024 / 1024} MB this endpoint accepts (SageMaker's limit: 6 MB for an instance-backed endpoint, 4 MB for a serverless one).`,
          ),
      );
      let answer: Answer;
      try {
        answer = await forward(server, req, body);
      } catch (error) {
        // The process an update just replaced: the request goes to the one serving now.
        const now = this.servers.get(name);
        if (!server.retired || !now || now === server) throw error;
        answer = await forward(now, req, body);
      }
      if (answer.status >= 200 && answer.status < 300) {
        res.writeHead(200, {
          "content-type": answer.contentType ?? "application/json",
          "content-length": answer.body.length,
          "x-amzn-invoked-production-variant": server.variant,
          ...(answer.customAttributes
            ? { "x-amzn-sagemaker-custom-attributes": answer.customAttributes }
            : {}),
        });
        res.end(answer.body);
        return;
      }
      throw this.modelError(name, answer.status, answer.body.toString("utf8"));
    } catch (error) {
      if (res.headersSent) return void res.destroy();
      sendJsonError(
        res,
        error instanceof AwsError
          ? error
          : new AwsError(
              "InternalFailure",
              error instanceof Error ? error.message : String(error),
              500,
            ),
        "application/json",
      );
    }
  }

  /**
   * After a restart: serving processes left by the previous local cloud are ended, and each
   * endpoint is brought to where AWS would have it. InService ones are served again (Failed if
   * their process no longer starts), a creation starts over, an update that was under way is
   * rolled back to the config that was serving, a deletion is finished. Returns what it did.
   */
  reconcileAfterRestart(): string[] {
    const said: string[] = [];
    for (const [name, record] of [...this.endpoints]) {
      if (record.pid) killGroup(record.pid);
      delete record.pid;
      const status = record.describe.EndpointStatus as EndpointStatus;
      const current = String(record.describe.EndpointConfigName);
      if (status === "Deleting") {
        this.endpoints.delete(name);
        said.push(`endpoint ${name} was being deleted; deleted`);
      } else if (status === "Creating") {
        this.deploy(name, current, "create");
        said.push(`endpoint ${name} was being created; creating it again`);
      } else if (status === "InService") {
        this.deploy(name, current, "restore");
        said.push(`endpoint ${name} is served again`);
      } else if (status === "Updating") {
        const target = record.updatingTo ?? "";
        delete record.updatingTo;
        this.setStatus(name, "InService", {
          FailureReason: `the update to endpoint config ${target} did not finish: the local cloud stopped during it, so the endpoint still serves ${current}`,
        });
        this.deploy(name, current, "restore");
        said.push(`endpoint ${name} was being updated; rolled back to ${current}`);
      }
    }
    this.saveEndpoints();
    return said;
  }

  /** Stops every serving process; the endpoints stay as they are, to be served again on the next start. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    // A process still loading its model is not waited for: the next start deploys it again.
    await Promise.all([...this.starting].map((server) => this.retire(server)));
    await Promise.all([...this.deploying.values()]);
    await Promise.all([...this.servers.values()].map((server) => this.retire(server)));
    this.servers.clear();
  }

  private createConfig(input: Record_): Record_ {
    const name = requireString(input, "EndpointConfigName");
    const arn = this.arn("endpoint-config", name);
    if (this.configs.has(name))
      throw new AwsError(
        "ValidationException",
        `Cannot create already existing endpoint configuration "${arn}".`,
      );
    const variants = Array.isArray(input.ProductionVariants)
      ? input.ProductionVariants.filter(isRecord)
      : [];
    for (const variant of variants) {
      this.options.model(String(variant.ModelName));
      if (variant.ServerlessConfig === undefined && variant.InstanceType === undefined)
        throw new AwsError(
          "ValidationException",
          `Production variant ${String(variant.VariantName)} needs either InstanceType (with InitialInstanceCount) or ServerlessConfig.`,
        );
      if (variant.ServerlessConfig !== undefined && variant.InstanceType !== undefined)
        throw new AwsError(
          "ValidationException",
          `Production variant ${String(variant.VariantName)} cannot have both InstanceType and ServerlessConfig.`,
        );
    }
    const { Tags: _tags, ...request } = input;
    this.configs.set(name, { ...request, EndpointConfigArn: arn, CreationTime: Date.now() / 1000 });
    this.saveConfigs();
    return { EndpointConfigArn: arn };
  }

  private createEndpoint(input: Record_): Record_ {
    const name = requireString(input, "EndpointName");
    const configName = requireString(input, "EndpointConfigName");
    const arn = this.arn("endpoint", name);
    if (this.endpoints.has(name))
      throw new AwsError(
        "ValidationException",
        `Cannot create already existing endpoint "${arn}".`,
      );
    this.config(configName);
    const now = Date.now() / 1000;
    this.endpoints.set(name, {
      tags: Object.fromEntries(
        (Array.isArray(input.Tags) ? input.Tags.filter(isRecord) : []).map((t) => [
          String(t.Key),
          String(t.Value ?? ""),
        ]),
      ),
      describe: {
        EndpointName: name,
        EndpointArn: arn,
        EndpointConfigName: configName,
        EndpointStatus: "Creating",
        CreationTime: now,
        LastModifiedTime: now,
      },
    });
    this.saveEndpoints();
    this.emit(name);
    this.deploy(name, configName, "create");
    return { EndpointArn: arn };
  }

  private updateEndpoint(input: Record_): Record_ {
    const name = requireString(input, "EndpointName");
    const configName = requireString(input, "EndpointConfigName");
    const record = this.endpoint(name);
    this.config(configName);
    const status = String(record.describe.EndpointStatus);
    if (status !== "InService")
      throw new AwsError(
        "ValidationException",
        `Cannot update endpoint "${String(record.describe.EndpointArn)}" while it is ${status}; only an InService endpoint can be updated.`,
      );
    record.updatingTo = configName;
    this.setStatus(name, "Updating", {});
    this.deploy(name, configName, "update");
    return { EndpointArn: record.describe.EndpointArn };
  }

  private deleteEndpoint(name: string): Record_ {
    const record = this.endpoint(name);
    if (record.describe.EndpointStatus === "Deleting")
      throw new AwsError(
        "ValidationException",
        `Cannot delete endpoint "${String(record.describe.EndpointArn)}": it is already being deleted.`,
      );
    this.setStatus(name, "Deleting", {});
    const finish = async () => {
      await this.deploying.get(name);
      const server = this.servers.get(name);
      this.servers.delete(name);
      if (server) await this.retire(server);
      this.endpoints.delete(name);
      this.saveEndpoints();
    };
    void finish();
    return {};
  }

  /**
   * Starts the process for `configName` and makes it the endpoint's server once it answers
   * /ping. "create" and "restore" end InService or Failed; "update" ends InService either way,
   * serving the new config, or the old one with the FailureReason of the update.
   */
  private deploy(name: string, configName: string, kind: "create" | "update" | "restore"): void {
    const work = (async () => {
      try {
        const server = await this.start(name, configName);
        if (this.endpoint(name).describe.EndpointStatus === "Deleting") {
          await this.retire(server);
          return;
        }
        const previous = this.servers.get(name);
        this.servers.set(name, server);
        if (previous) void this.retire(previous);
        const record = this.endpoint(name);
        if (server.job.pid) record.pid = server.job.pid;
        delete record.updatingTo;
        if (kind === "restore") return this.saveEndpoints();
        this.setStatus(name, "InService", {
          EndpointConfigName: configName,
          ProductionVariants: this.deployedVariants(configName),
          FailureReason: undefined,
        });
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).slice(
          0,
          FAILURE_LIMIT,
        );
        const record = this.endpoints.get(name);
        if (this.stopping || !record || record.describe.EndpointStatus === "Deleting") return;
        if (kind === "update") {
          delete record.updatingTo;
          this.setStatus(name, "InService", {
            FailureReason: `the update to endpoint config ${configName} failed, so the endpoint still serves ${String(record.describe.EndpointConfigName)}: ${reason}`,
          });
        } else {
          this.setStatus(name, "Failed", { FailureReason: reason });
        }
      }
    })();
    this.deploying.set(name, work);
    void work.finally(() => {
      if (this.deploying.get(name) === work) this.deploying.delete(name);
    });
  }

  /** One serving process for the config's variant, resolved once it answers /ping. */
  private async start(name: string, configName: string): Promise<Server> {
    const config = this.config(configName);
    const variants = Array.isArray(config.ProductionVariants)
      ? config.ProductionVariants.filter(isRecord)
      : [];
    const [variant] = variants;
    if (!variant || variants.length > 1)
      throw new CannotServe(
        `ClientError: the local cloud serves one production variant per endpoint; ${configName} has ${variants.length}`,
      );
    const count = optionalNumber(variant, "InitialInstanceCount") ?? 1;
    if (count > 1)
      throw new CannotServe(
        `ClientError: the local cloud serves an endpoint from one instance; InitialInstanceCount ${count} needs AWS (use 1 to serve it locally)`,
      );
    const model = this.options.model(String(variant.ModelName));
    const container = isRecord(model.PrimaryContainer) ? model.PrimaryContainer : {};
    const environment = isRecord(container.Environment)
      ? (container.Environment as Record<string, string>)
      : {};
    const folder = freshFolder(join(this.options.root, "endpoints", name, `${Date.now()}`));
    const archive = join(folder, "model.tar.gz");
    try {
      downloadObject(this.options.store, parseS3Uri(String(container.ModelDataUrl)), archive);
      unpackTarGz(archive, join(folder, "model"));
    } catch (error) {
      throw new CannotServe(
        `ClientError: the model data ${String(container.ModelDataUrl)} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      rmSync(archive, { force: true });
    }
    const submit = environment.SAGEMAKER_SUBMIT_DIRECTORY ?? "";
    if (submit.startsWith("s3://")) {
      const source = join(folder, "sourcedir.tar.gz");
      downloadObject(this.options.store, parseS3Uri(submit), source);
      unpackTarGz(source, join(folder, "code"));
      rmSync(source, { force: true });
    } else {
      mkdirSync(join(folder, "code"), { recursive: true });
    }
    const view = jobView(this.options.root, folder, this.options.namespaces);
    const optMl = view.optMl;
    const port = await freePort();
    const command = inJobView(
      view,
      {
        argv: [
          this.options.python,
          "-m",
          "modeldrop_ml.serve",
          "--model",
          join(optMl, "model"),
          ...(submit.startsWith("s3://") ? ["--code", join(optMl, "code")] : []),
          "--failure-file",
          join(optMl, "failure"),
        ],
        cwd: join(optMl, "code"),
        env: {
          ...jobEnvironment(this.options.python, optMl, this.options.region),
          ...environment,
          PYTHONPATH: join(optMl, "code"),
          SAGEMAKER_BIND_TO_PORT: String(port),
        },
      },
      folder,
      [this.options.python],
    );
    const variantName = String(variant.VariantName ?? "AllTraffic");
    const log = { group: `${LOG_GROUP}/${name}`, stream: `${variantName}/local-${port}` };
    if (view.fallback) this.options.logs.append(log.group, log.stream, view.fallback);
    const job = runProcess(this.options.context, command, log, {
      metricDefinitions: [],
      messageFile: join(folder, "failure"),
    });
    const server: Server = {
      configName,
      variant: variantName,
      port,
      job,
      agent: new Agent({ keepAlive: true, maxSockets: 16 }),
      folder,
      retired: false,
    };
    const timeout =
      optionalNumber(variant, "ContainerStartupHealthCheckTimeoutInSeconds") ??
      STARTUP_TIMEOUT_SECONDS;
    this.starting.add(server);
    try {
      await waitForPing(server, timeout);
    } catch (error) {
      await this.retire(server);
      throw error;
    } finally {
      this.starting.delete(server);
    }
    void job.done.then((outcome) => {
      if (server.retired) return;
      this.options.logs.append(
        log.group,
        log.stream,
        `modeldrop: the serving process exited (code ${outcome.exitCode ?? outcome.signal}); starting it again`,
      );
      if (this.servers.get(name) !== server || !this.endpoints.has(name)) return;
      this.servers.delete(name);
      this.deploy(name, configName, "restore");
    });
    return server;
  }

  /** Stops a serving process (SIGTERM, then SIGKILL after the grace) and removes its folder. */
  private async retire(server: Server): Promise<void> {
    server.retired = true;
    // SIGTERM first: the process answers the requests it has before it exits.
    server.job.stop("user");
    await server.job.done;
    server.agent.destroy();
    rmSync(server.folder, { recursive: true, force: true });
  }

  /** DescribeEndpoint's ProductionVariants once a config is deployed. */
  private deployedVariants(configName: string): Record_[] {
    const config = this.config(configName);
    const variants = Array.isArray(config.ProductionVariants)
      ? config.ProductionVariants.filter(isRecord)
      : [];
    const now = Date.now() / 1000;
    return variants.map((variant) => {
      const model = this.options.model(String(variant.ModelName));
      const container = isRecord(model.PrimaryContainer) ? model.PrimaryContainer : {};
      const image = String(container.Image ?? "");
      const weight = optionalNumber(variant, "InitialVariantWeight") ?? 1;
      const common = {
        VariantName: variant.VariantName,
        DeployedImages: [{ SpecifiedImage: image, ResolvedImage: image, ResolutionTime: now }],
        CurrentWeight: weight,
        DesiredWeight: weight,
      };
      if (isRecord(variant.ServerlessConfig))
        return {
          ...common,
          CurrentServerlessConfig: variant.ServerlessConfig,
          DesiredServerlessConfig: variant.ServerlessConfig,
        };
      const count = optionalNumber(variant, "InitialInstanceCount") ?? 1;
      return { ...common, CurrentInstanceCount: count, DesiredInstanceCount: count };
    });
  }

  private modelError(name: string, status: number, message: string): AwsError {
    const { region, account } = this.options;
    const kind = status < 500 ? "client" : "server";
    return new AwsError(
      "ModelError",
      `Received ${kind} error (${status}) from primary with message "${message.trim()}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${LOG_GROUP}/${name} in account ${account} for more information.`,
      424,
      {
        OriginalStatusCode: status,
        OriginalMessage: message,
        LogStreamArn: `arn:aws:logs:${region}:${account}:log-group:${LOG_GROUP}/${name}`,
      },
    );
  }

  /** Sets the status (and other members; undefined removes one), saves, and tells EventBridge. */
  private setStatus(name: string, status: EndpointStatus, fields: Record_): void {
    const record = this.endpoint(name);
    Object.assign(record.describe, fields, {
      EndpointStatus: status,
      LastModifiedTime: Date.now() / 1000,
    });
    for (const [key, value] of Object.entries(record.describe))
      if (value === undefined) delete record.describe[key];
    this.saveEndpoints();
    this.emit(name);
  }

  /** EventBridge's "SageMaker Endpoint State Change" (statuses in capitals, times in ms). */
  private emit(name: string): void {
    const record = this.endpoint(name);
    const d = record.describe;
    const config = this.configs.get(String(d.EndpointConfigName));
    const variants = Array.isArray(config?.ProductionVariants)
      ? config.ProductionVariants.filter(isRecord)
      : [];
    this.options.onEvent?.({
      version: "0",
      id: randomUUID(),
      "detail-type": "SageMaker Endpoint State Change",
      source: "aws.sagemaker",
      account: this.options.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: this.options.region,
      resources: [d.EndpointArn],
      detail: {
        EndpointName: d.EndpointName,
        EndpointArn: d.EndpointArn,
        EndpointConfigName: d.EndpointConfigName,
        ProductionVariants: variants.map((v) => ({
          DesiredWeight: optionalNumber(v, "InitialVariantWeight") ?? 1,
          ...(isRecord(v.ServerlessConfig)
            ? {}
            : { DesiredInstanceCount: optionalNumber(v, "InitialInstanceCount") ?? 1 }),
        })),
        EndpointStatus: String(d.EndpointStatus)
          .replace(/([a-z])([A-Z])/g, "$1_$2")
          .toUpperCase(),
        CreationTime: Number(d.CreationTime) * 1000,
        LastModifiedTime: Number(d.LastModifiedTime) * 1000,
        ...(d.FailureReason ? { FailureReason: d.FailureReason } : {}),
        Tags: record.tags ?? {},
      },
    });
  }

  private config(name: string): Record_ {
    const config = this.configs.get(name);
    if (!config)
      throw new AwsError(
        "ValidationException",
        `Could not find endpoint configuration "${this.arn("endpoint-config", name)}".`,
      );
    return config;
  }

  private endpoint(name: string): EndpointRecord {
    const record = this.endpoints.get(name);
    if (!record)
      throw new AwsError(
        "ValidationException",
        `Could not find endpoint "${this.arn("endpoint", name)}".`,
      );
    return record;
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:sagemaker:${this.options.region}:${this.options.account}:${kind}/${name.toLowerCase()}`;
  }

  private file(name: string): string {
    return join(this.options.root, name);
  }

  private saveConfigs(): void {
    writeJsonAtomic(this.file("endpoint-configs.json"), Object.fromEntries(this.configs));
  }

  private saveEndpoints(): void {
    writeJsonAtomic(this.file("endpoints.json"), Object.fromEntries(this.endpoints));
  }
}

/** Whether a config's (one) variant is serverless. */
function serverless(config: Record_): boolean {
  const variants = Array.isArray(config.ProductionVariants) ? config.ProductionVariants : [];
  return variants.some((v) => isRecord(v) && isRecord(v.ServerlessConfig));
}

/** A List call's filters, order and page size over Describe-shaped records. */
function listed(records: Record_[], input: Record_, nameField: string): Record_[] {
  const contains = optionalString(input, "NameContains")?.toLowerCase();
  const byName = input.SortBy === "Name";
  const descending = input.SortOrder !== "Ascending";
  const max = optionalNumber(input, "MaxResults") ?? 100;
  return records
    .filter((r) => !contains || String(r[nameField]).toLowerCase().includes(contains))
    .sort((a, b) => {
      const order = byName
        ? String(a[nameField]).localeCompare(String(b[nameField]))
        : Number(a.CreationTime) - Number(b.CreationTime);
      return descending ? -order : order;
    })
    .slice(0, max);
}

interface Answer {
  status: number;
  contentType: string | undefined;
  customAttributes: string | undefined;
  body: Buffer;
}

/** One invocation on the serving process, over a kept-alive connection. */
function forward(server: Server, req: IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: Record<string, string | number> = { "content-length": body.length };
  for (const name of ["content-type", "accept", "x-amzn-sagemaker-custom-attributes"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/invocations",
        method: "POST",
        headers,
        agent: server.agent,
        timeout: INVOCATION_TIMEOUT_MS,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const attributes = answer.headers["x-amzn-sagemaker-custom-attributes"];
          resolve({
            status: answer.statusCode ?? 500,
            contentType: answer.headers["content-type"],
            customAttributes: typeof attributes === "string" ? attributes : undefined,
            body: Buffer.concat(chunks),
          });
        });
        answer.on("error", reject);
      },
    );
    call.on("timeout", () => {
      call.destroy();
      reject(
        new AwsError(
          "ModelError",
          `Received server error (0) from primary with message "Your invocation timed out while waiting for a response from container primary." (the model must answer within ${INVOCATION_TIMEOUT_MS / 1000} seconds)`,
          424,
        ),
      );
    });
    call.on("error", (error) =>
      reject(
        new AwsError(
          "ModelError",
          `Received server error (0) from primary with message "the serving process did not answer: ${error.message}"`,
          424,
        ),
      ),
    );
    call.end(body);
  });
}

/** Polls /ping until it answers 200; fails with the process's reason if it exits first. */
async function waitForPing(server: Server, timeoutSeconds: number): Promise<void> {
  let exited: Awaited<RunningJob["done"]> | undefined;
  void server.job.done.then((outcome) => {
    exited = outcome;
  });
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (exited) {
      const tail = exited.stderrTail.slice(-4).join("\n");
      throw new CannotServe(
        `ClientError: the serving container exited (code ${exited.exitCode ?? exited.signal}) before it answered /ping: ${exited.message ?? (tail || "see the endpoint's log")}`,
      );
    }
    if (await pings(server.port)) return;
    await new Promise((done) => setTimeout(done, PING_INTERVAL_MS));
  }
  throw new CannotServe(
    `ClientError: the primary container did not pass the ping health check within ${timeoutSeconds} seconds (ContainerStartupHealthCheckTimeoutInSeconds); see the endpoint's log`,
  );
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request({ host: "127.0.0.1", port, path: "/ping", timeout: 2000 }, (answer) => {
      answer.resume();
      resolve(answer.statusCode === 200);
    });
    call.on("timeout", () => call.destroy());
    call.on("error", () => resolve(false));
    call.end();
  });
}

/** A loopback port free now, for SAGEMAKER_BIND_TO_PORT. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
