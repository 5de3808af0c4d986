// The local SageMaker: processing, training and transform jobs and models. Requests are
// validated against botocore's official API model, jobs wait for a free slot (instead of
// failing on capacity) and then run as local processes under the container contract.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { loadServiceModel, validateRequest } from "./aws-model.js";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord } from "./http.js";
import { JobReaper } from "./job-reaper.js";
import type { JsonService } from "./json-service.js";
import { optionalString, requireString } from "./json-service.js";
import type { LogsService } from "./logs.js";
import {
  RequirementsInstallStopped,
  RequirementsNotInstalled,
  type RequirementsPython,
  requirementsPython,
} from "./requirements-venv.js";
import type { ObjectStore } from "./s3-store.js";
import { downloadObject, parseS3Uri } from "./s3-uri.js";
import {
  executeUserScriptError,
  inputDataConfigEntry,
  processingJobConfig,
  resourceConfig,
  trainingContract,
} from "./sagemaker-contract.js";
import { EndpointHosting } from "./sagemaker-endpoints.js";
import {
  freshFolder,
  inJobView,
  JobCannotStart,
  type JobCommand,
  type JobOutcome,
  jobEnvironment,
  jobView,
  killGroup,
  MESSAGE_LIMIT,
  packTarGz,
  type RunnerContext,
  type RunningJob,
  readTarMember,
  runProcess,
  stageS3Input,
  unpackTarGz,
  uploadOutputs,
  writeJson,
} from "./sagemaker-runner.js";

export type JobKind = "Training" | "Processing" | "Transform";
type Record_ = Record<string, unknown>;

interface JobRecord {
  kind: JobKind;
  name: string;
  /** The Describe answer as stored (timestamps in epoch seconds, as the JSON protocol sends them). */
  describe: Record_;
  /** The job's process group while it runs, so a restart can end a job orphaned by a crash. */
  pid?: number;
}

export interface SageMakerOptions {
  stateDir: string;
  region: string;
  account: string;
  store: ObjectStore;
  logs: LogsService;
  python: string;
  slots: number;
  stopGraceSeconds?: number;
  /** Told about every job status change (the Step Functions `.sync` waiters listen here). */
  onStatus?: (kind: JobKind, name: string, status: string) => void;
  /** Where SageMaker's EventBridge events go (endpoint state changes). */
  onEvent?: (event: Record_) => void;
}

const STATUS_FIELD: Record<JobKind, string> = {
  Training: "TrainingJobStatus",
  Processing: "ProcessingJobStatus",
  Transform: "TransformJobStatus",
};
const TERMINAL = new Set(["Completed", "Failed", "Stopped"]);
const LOG_GROUP: Record<JobKind, string> = {
  Training: "/aws/sagemaker/TrainingJobs",
  Processing: "/aws/sagemaker/ProcessingJobs",
  Transform: "/aws/sagemaker/TransformJobs",
};

export class SageMakerService implements JsonService {
  readonly contentType = "application/x-amz-json-1.1";
  private readonly root: string;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly models = new Map<string, Record_>();
  /** Tags by resource ARN (jobs and models); Describe answers carry none, as on AWS. */
  private readonly tags = new Map<string, Tag[]>();
  private readonly running = new Map<string, RunningJob>();
  /** Jobs holding a slot, from staging their inputs until their process has ended. */
  private readonly launched = new Set<string>();
  private readonly queue: JobRecord[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly context: RunnerContext;
  /** Jobs run in a namespace of their own with a real /opt/ml, unless MODELDROP_NO_NAMESPACE=1. */
  private readonly namespaces = process.env.MODELDROP_NO_NAMESPACE !== "1";
  /** Endpoint configs, endpoints and InvokeEndpoint. */
  readonly hosting: EndpointHosting;

  constructor(private readonly options: SageMakerOptions) {
    this.root = join(options.stateDir, "sagemaker");
    this.context = {
      store: options.store,
      logs: options.logs,
      python: options.python,
      stopGraceSeconds: options.stopGraceSeconds ?? 10,
      reaper: new JobReaper(),
    };
    this.hosting = new EndpointHosting({
      root: this.root,
      region: options.region,
      account: options.account,
      store: options.store,
      logs: options.logs,
      python: options.python,
      context: this.context,
      namespaces: this.namespaces,
      model: (name) => this.model(name),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    this.operations = { ...this.jobOperations, ...this.hostingOperations() };
    for (const kind of ["Training", "Processing", "Transform"] as const) {
      const folder = join(this.root, "records", kind);
      if (!existsSync(folder)) continue;
      for (const file of readdirSync(folder)) {
        const record = readJsonFile(join(folder, file), undefined) as JobRecord | undefined;
        if (record) this.jobs.set(jobKey(kind, record.name), record);
      }
    }
    for (const [name, model] of Object.entries(
      readJsonFile(join(this.root, "models.json"), {}) as Record<string, Record_>,
    ))
      this.models.set(name, model);
    for (const [arn, tags] of Object.entries(
      readJsonFile(join(this.root, "tags.json"), {}) as Record<string, Tag[]>,
    ))
      this.tags.set(arn, tags);
  }

  /** Jobs whose process died with the previous local cloud can never finish: fail them now. */
  reconcileAfterRestart(): string[] {
    const failed: string[] = [];
    for (const record of this.jobs.values()) {
      const status = String(record.describe[STATUS_FIELD[record.kind]]);
      if (TERMINAL.has(status)) continue;
      if (record.pid) killGroup(record.pid);
      this.finish(record, "Failed", {
        FailureReason: "InternalServerError: the local cloud restarted while this job was running",
      });
      failed.push(record.name);
    }
    return failed;
  }

  validate(operation: string, input: Record_): void {
    const error = validateRequest(loadServiceModel("sagemaker"), operation, input);
    if (error) throw new AwsError(error.name, error.message);
  }

  private readonly jobOperations = {
    CreateTrainingJob: (input: Record_) =>
      this.create("Training", requireString(input, "TrainingJobName"), input),
    CreateProcessingJob: (input: Record_) =>
      this.create("Processing", requireString(input, "ProcessingJobName"), input),
    CreateTransformJob: (input: Record_) =>
      this.create("Transform", requireString(input, "TransformJobName"), input),
    DescribeTrainingJob: (input: Record_) =>
      this.job("Training", requireString(input, "TrainingJobName")).describe,
    DescribeProcessingJob: (input: Record_) =>
      this.job("Processing", requireString(input, "ProcessingJobName")).describe,
    DescribeTransformJob: (input: Record_) =>
      this.job("Transform", requireString(input, "TransformJobName")).describe,
    StopTrainingJob: (input: Record_) =>
      this.stop("Training", requireString(input, "TrainingJobName")),
    StopProcessingJob: (input: Record_) =>
      this.stop("Processing", requireString(input, "ProcessingJobName")),
    StopTransformJob: (input: Record_) =>
      this.stop("Transform", requireString(input, "TransformJobName")),
    ListTrainingJobs: (input: Record_) => ({ TrainingJobSummaries: this.list("Training", input) }),
    ListProcessingJobs: (input: Record_) => ({
      ProcessingJobSummaries: this.list("Processing", input),
    }),
    ListTransformJobs: (input: Record_) => ({
      TransformJobSummaries: this.list("Transform", input),
    }),
    CreateModel: (input: Record_) => this.createModel(input),
    DescribeModel: (input: Record_) => this.model(requireString(input, "ModelName")),
    DeleteModel: (input: Record_) => {
      const name = requireString(input, "ModelName");
      const arn = String(this.model(name).ModelArn);
      this.models.delete(name);
      this.saveModels();
      if (this.tags.delete(arn)) this.saveTags();
      return {};
    },
    ListModels: () => ({
      Models: [...this.models.values()].map((m) => ({
        ModelName: m.ModelName,
        ModelArn: m.ModelArn,
        CreationTime: m.CreationTime,
      })),
    }),
    AddTags: (input: Record_) => {
      const arn = this.taggable(requireString(input, "ResourceArn"));
      const added = tagList(input.Tags);
      const keys = new Set(added.map((t) => t.Key));
      this.tags.set(arn, [...(this.tags.get(arn) ?? []).filter((t) => !keys.has(t.Key)), ...added]);
      this.saveTags();
      return { Tags: added };
    },
    DeleteTags: (input: Record_) => {
      const arn = this.taggable(requireString(input, "ResourceArn"));
      const keys = new Set(Array.isArray(input.TagKeys) ? input.TagKeys.map(String) : []);
      this.tags.set(
        arn,
        (this.tags.get(arn) ?? []).filter((t) => !keys.has(t.Key)),
      );
      this.saveTags();
      return {};
    },
    // Every tag in one page: a resource has at most 50.
    ListTags: (input: Record_) => ({
      Tags: this.tags.get(this.taggable(requireString(input, "ResourceArn"))) ?? [],
    }),
  };

  readonly operations: Record<string, (input: Record_) => unknown>;

  /** The hosting operations, with the tags their Create requests carry kept as for jobs and models. */
  private hostingOperations() {
    const { CreateEndpoint, CreateEndpointConfig, ...rest } = this.hosting.operations;
    return {
      ...rest,
      CreateEndpoint: (input: Record_) => {
        const answer = CreateEndpoint(input);
        this.tag(String(answer.EndpointArn), input.Tags);
        return answer;
      },
      CreateEndpointConfig: (input: Record_) => {
        const answer = CreateEndpointConfig(input);
        this.tag(String(answer.EndpointConfigArn), input.Tags);
        return answer;
      },
    };
  }

  describe(kind: JobKind, name: string): Record_ {
    return this.job(kind, name).describe;
  }

  status(kind: JobKind, name: string): string {
    return String(this.job(kind, name).describe[STATUS_FIELD[kind]]);
  }

  /** Resolves at the job's next status change (or at once if it has ended). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  stopJob(kind: JobKind, name: string): void {
    this.stop(kind, name);
  }

  async shutdown(): Promise<void> {
    await this.hosting.shutdown();
    const done = [...this.running.values()].map((job) => {
      job.stop("user");
      return job.done;
    });
    await Promise.all(done);
    this.context.reaper.stop();
  }

  private create(kind: JobKind, name: string, input: Record_): Record_ {
    const key = jobKey(kind, name);
    const arnName = `${kind === "Training" ? "training" : kind === "Processing" ? "processing" : "transform"}-job/${name.toLowerCase()}`;
    const arn = `arn:aws:sagemaker:${this.options.region}:${this.options.account}:${arnName}`;
    if (this.jobs.has(key)) {
      throw new AwsError(
        "ResourceInUse",
        `${kind} job names must be unique within an AWS account and region, and a ${kind.toLowerCase()} job with this name already exists (${arn})`,
      );
    }
    if (kind === "Transform") this.model(requireString(input, "ModelName"));
    const { Tags: tags, ...request } = input;
    const now = Date.now() / 1000;
    const describe: Record_ = {
      ...withServiceDefaults(kind, request),
      [`${kind}JobArn`]: arn,
      [STATUS_FIELD[kind]]: "InProgress",
      CreationTime: now,
      LastModifiedTime: now,
    };
    if (kind === "Training") {
      describe.SecondaryStatus = "Starting";
      describe.SecondaryStatusTransitions = [
        { Status: "Starting", StartTime: now, StatusMessage: "Waiting for a free local job slot" },
      ];
    }
    const record: JobRecord = { kind, name, describe };
    this.jobs.set(key, record);
    this.save(record);
    this.tag(arn, tags);
    this.queue.push(record);
    this.pump();
    return { [`${kind}JobArn`]: arn };
  }

  private pump(): void {
    while (this.launched.size < this.options.slots && this.queue.length > 0) {
      const record = this.queue.shift();
      if (!record || TERMINAL.has(String(record.describe[STATUS_FIELD[record.kind]]))) continue;
      void this.launch(record);
    }
  }

  private async launch(record: JobRecord): Promise<void> {
    const key = jobKey(record.kind, record.name);
    this.launched.add(key);
    try {
      await this.execute(record);
    } catch (error) {
      this.finish(record, "Failed", { FailureReason: failureReason(error) });
    } finally {
      this.launched.delete(key);
      this.running.delete(key);
      this.pump();
    }
  }

  private async execute(record: JobRecord): Promise<void> {
    const instances = instanceCount(record);
    if (instances > 1) {
      this.finish(record, "Failed", {
        FailureReason: `ClientError: the local cloud runs one instance per job; InstanceCount ${instances} needs AWS (use InstanceCount 1 to run this job locally)`,
      });
      return;
    }
    const folder = freshFolder(join(this.root, "jobs", record.kind, record.name));
    const start = Date.now() / 1000;
    this.update(record, { [`${record.kind}StartTime`]: start });
    this.transition(record, "Downloading", "Preparing the instances and downloading input data");
    const view = jobView(this.root, folder, this.namespaces);
    const prepared =
      record.kind === "Training"
        ? this.prepareTraining(record, folder, view.optMl)
        : record.kind === "Processing"
          ? this.prepareProcessing(record, folder, view.optMl)
          : this.prepareTransform(record, folder, view.optMl);
    const stream = `${record.name}/algo-1-${Math.floor(start)}`;
    const log = { group: LOG_GROUP[record.kind], stream };
    if (view.fallback) this.options.logs.append(log.group, stream, view.fallback);
    const stopping = record.describe.StoppingCondition;
    const maxRuntimeSeconds =
      isRecord(stopping) && typeof stopping.MaxRuntimeInSeconds === "number"
        ? stopping.MaxRuntimeInSeconds
        : 86400;
    const spec = record.describe.AlgorithmSpecification;
    const metricDefinitions =
      isRecord(spec) && Array.isArray(spec.MetricDefinitions)
        ? (spec.MetricDefinitions as { Name: string; Regex: string }[])
        : [];
    this.transition(
      record,
      record.kind === "Training" ? "Training" : "InProgress",
      record.kind === "Training"
        ? "Training image download completed. Training in progress."
        : "Running",
    );
    // As the toolkits do, requirements.txt is installed in the job's time (MaxRuntimeInSeconds
    // counts it, Stop ends it), its output in the job's log.
    let python: RequirementsPython | undefined;
    let runtimeLeft = maxRuntimeSeconds;
    if (prepared.requirements) {
      const installing = Date.now();
      try {
        python = await this.requirementsPython(record, prepared, log, maxRuntimeSeconds);
      } catch (error) {
        if (!(error instanceof RequirementsInstallStopped)) throw error;
        this.complete(record, folder, prepared, error.outcome, start);
        return;
      }
      const status = String(record.describe[STATUS_FIELD[record.kind]]);
      if (TERMINAL.has(status)) return;
      if (status === "Stopping") {
        this.complete(record, folder, prepared, stoppedOutcome(), start);
        return;
      }
      runtimeLeft = Math.max(1, maxRuntimeSeconds - (Date.now() - installing) / 1000);
    }
    const scriptCommand = python
      ? withPython(prepared.command, this.options.python, python)
      : prepared.command;
    // Under a requirements virtualenv, the framework's environment is read-only too.
    const command = inJobView(view, scriptCommand, folder, [
      this.options.python,
      ...(python ? [python.python] : []),
    ]);
    const job = runProcess(this.context, command, log, {
      maxRuntimeSeconds: runtimeLeft,
      metricDefinitions,
      messageFile: prepared.messageFile,
    });
    this.running.set(jobKey(record.kind, record.name), job);
    if (job.pid) {
      record.pid = job.pid;
      this.save(record);
    }
    const outcome = await job.done;
    this.running.delete(jobKey(record.kind, record.name));
    this.complete(record, folder, prepared, outcome, start, scriptCommand.argv);
  }

  /**
   * The interpreter for the job's requirements.txt (requirements-venv.ts); pip, when it runs,
   * is the job's process meanwhile, so Stop and MaxRuntimeInSeconds reach it.
   */
  private async requirementsPython(
    record: JobRecord,
    prepared: Prepared,
    log: { group: string; stream: string },
    maxRuntimeSeconds: number,
  ): Promise<RequirementsPython> {
    const requirements = prepared.requirements;
    if (!requirements) throw new Error("the job has no requirements.txt");
    const key = jobKey(record.kind, record.name);
    try {
      return await requirementsPython(
        {
          venvs: join(this.options.stateDir, "venvs"),
          basePython: this.options.python,
          image: prepared.image,
          text: requirements.text,
          ...(requirements.file ? { file: requirements.file } : {}),
          cwd: requirements.cwd,
          env: { ...pipEnvironment(), ...prepared.command.env },
        },
        {
          log: (line) => this.options.logs.append(log.group, log.stream, line),
          run: (command) => {
            if (record.describe[STATUS_FIELD[record.kind]] === "Stopping")
              return { pid: undefined, stop: () => {}, done: Promise.resolve(stoppedOutcome()) };
            const pip = runProcess(this.context, command, log, {
              maxRuntimeSeconds,
              metricDefinitions: [],
            });
            this.running.set(key, pip);
            return pip;
          },
        },
      );
    } finally {
      this.running.delete(key);
    }
  }

  private complete(
    record: JobRecord,
    folder: string,
    prepared: Prepared,
    outcome: JobOutcome,
    start: number,
    /** What ran (before the namespace): the training toolkit's failure text quotes it. */
    scriptArgv: string[] = prepared.command.argv,
  ): void {
    const end = Date.now() / 1000;
    const seconds = Math.max(1, Math.round(end - start));
    const timing: Record_ = { [`${record.kind}EndTime`]: end };
    if (record.kind === "Training") {
      Object.assign(timing, { TrainingTimeInSeconds: seconds, BillableTimeInSeconds: seconds });
      const metrics = Object.entries(outcome.metrics).map(([MetricName, Value]) => ({
        MetricName,
        Value,
        Timestamp: end,
      }));
      if (metrics.length > 0) timing.FinalMetricDataList = metrics;
    }
    if (record.kind === "Processing" && outcome.message) timing.ExitMessage = outcome.message;
    if (outcome.stoppedBy === "user") {
      this.transition(record, "Stopped", "Training job stopped by the user");
      this.finish(record, "Stopped", timing);
      return;
    }
    if (outcome.stoppedBy === "max-runtime") {
      this.transition(record, "MaxRuntimeExceeded", "The job exceeded MaxRuntimeInSeconds");
      this.finish(record, "Stopped", {
        ...timing,
        FailureReason: "MaxRuntimeExceeded: the job ran past MaxRuntimeInSeconds and was stopped",
      });
      return;
    }
    if (outcome.exitCode !== 0) {
      const reason =
        record.kind === "Training"
          ? `AlgorithmError: ${outcome.message ?? executeUserScriptError(exitStatus(outcome), outcome.stderrTail, scriptArgv)}`.slice(
              0,
              MESSAGE_LIMIT,
            )
          : record.kind === "Processing"
            ? "AlgorithmError: See job logs for more information"
            : `ClientError: ${outcome.message ?? `the transform exited with code ${outcome.exitCode ?? outcome.signal}; see the job log`}`;
      this.transition(record, "Failed", reason);
      this.finish(record, "Failed", { ...timing, FailureReason: reason });
      return;
    }
    try {
      this.transition(record, "Uploading", "Uploading generated training model");
      prepared.upload();
    } catch (error) {
      const reason = `InternalServerError: uploading the outputs failed: ${error instanceof Error ? error.message : String(error)}`;
      this.finish(record, "Failed", { ...timing, FailureReason: reason });
      return;
    }
    this.transition(record, "Completed", "Job completed");
    this.finish(record, "Completed", timing);
    rmSafe(folder);
  }

  /** `optMl` is where the job's process finds /opt/ml; `base` is the job folder on the host. */
  private prepareTraining(record: JobRecord, base: string, optMl: string): Prepared {
    const d = record.describe;
    const hyperparameters = isRecord(d.HyperParameters)
      ? (d.HyperParameters as Record<string, string>)
      : {};
    const config = join(base, "input", "config");
    mkdirSync(config, { recursive: true });
    writeJson(join(config, "hyperparameters.json"), hyperparameters);
    const resources = resourceConfig(instanceType(d.ResourceConfig));
    writeJson(join(config, "resourceconfig.json"), resources);
    const spec = isRecord(d.AlgorithmSpecification) ? d.AlgorithmSpecification : {};
    const inputMode = typeof spec.TrainingInputMode === "string" ? spec.TrainingInputMode : "File";
    const channels = Array.isArray(d.InputDataConfig) ? d.InputDataConfig.filter(isRecord) : [];
    const inputConfig: Record_ = {};
    for (const channel of channels) {
      const name = String(channel.ChannelName);
      const source =
        isRecord(channel.DataSource) && isRecord(channel.DataSource.S3DataSource)
          ? channel.DataSource.S3DataSource
          : undefined;
      if (!source)
        throw new Error(
          `channel ${name} has no S3DataSource (the local cloud reads channels from S3 only)`,
        );
      const folder = join(base, "input", "data", name);
      stageS3Input(
        this.options.store,
        String(source.S3Uri),
        String(source.S3DataType ?? "S3Prefix"),
        folder,
      );
      inputConfig[name] = inputDataConfigEntry(channel, source, inputMode);
    }
    writeJson(join(config, "inputdataconfig.json"), inputConfig);
    const program = hyperparameters.sagemaker_program;
    const submit = hyperparameters.sagemaker_submit_directory;
    if (!program || !submit)
      throw new Error(
        "training jobs need the sagemaker_program and sagemaker_submit_directory hyperparameters (script mode)",
      );
    const code = join(base, "code");
    const archive = join(base, "sourcedir.tar.gz");
    const sourceDir = stripQuotes(submit);
    downloadObject(this.options.store, parseS3Uri(sourceDir), archive);
    unpackTarGz(archive, code);
    const entryPoint = stripQuotes(program);
    if (!existsSync(join(code, entryPoint)))
      throw new JobCannotStart(
        `AlgorithmError: the entry point ${entryPoint} (the sagemaker_program hyperparameter) is not in the source dir ${sourceDir}, which holds: ${listing(code)}`,
      );
    // The training toolkit installs the source dir's requirements.txt before running the script.
    const requirements = join(code, "requirements.txt");
    const model = join(base, "model");
    const outputData = join(base, "output", "data");
    mkdirSync(model, { recursive: true });
    mkdirSync(outputData, { recursive: true });
    const output = isRecord(d.OutputDataConfig) ? String(d.OutputDataConfig.S3OutputPath) : "";
    const jobOutput = `${output.replace(/\/$/, "")}/${record.name}/output`;
    this.update(record, { ModelArtifacts: { S3ModelArtifacts: `${jobOutput}/model.tar.gz` } });
    const contract = trainingContract({
      name: record.name,
      arn: String(d.TrainingJobArn),
      region: this.options.region,
      optMl,
      hyperparameters,
      inputDataConfig: inputConfig,
      resourceConfig: resources,
    });
    return {
      command: {
        argv: [this.options.python, entryPoint, ...contract.args],
        cwd: join(optMl, "code"),
        env: {
          ...jobEnvironment(this.options.python, optMl, this.options.region),
          ...contract.env,
        },
      },
      image: typeof spec.TrainingImage === "string" ? spec.TrainingImage : "",
      ...(existsSync(requirements)
        ? {
            requirements: {
              text: readFileSync(requirements, "utf8"),
              file: requirements,
              cwd: code,
            },
          }
        : {}),
      messageFile: join(base, "output", "failure"),
      upload: () => {
        const archiveOut = join(base, "model.tar.gz");
        packTarGz(model, archiveOut);
        const target = parseS3Uri(`${jobOutput}/model.tar.gz`);
        this.options.store.put(target.bucket, target.key, { file: archiveOut });
        const dataOut = join(base, "output.tar.gz");
        packTarGz(outputData, dataOut);
        const outputTarget = parseS3Uri(`${jobOutput}/output.tar.gz`);
        this.options.store.put(outputTarget.bucket, outputTarget.key, { file: dataOut });
      },
    };
  }

  private prepareProcessing(record: JobRecord, base: string, optMl: string): Prepared {
    const d = record.describe;
    const app = isRecord(d.AppSpecification) ? d.AppSpecification : {};
    const under = (root: string) => (path: string) =>
      path.startsWith("/opt/ml/") ? join(root, path.slice("/opt/ml/".length)) : path;
    const local = under(base);
    const inJob = under(optMl);
    const config = join(base, "config");
    mkdirSync(config, { recursive: true });
    writeJson(join(config, "processingjobconfig.json"), processingJobConfig(d));
    const resources = isRecord(d.ProcessingResources) ? d.ProcessingResources : {};
    writeJson(
      join(config, "resourceconfig.json"),
      resourceConfig(instanceType(resources.ClusterConfig)),
    );
    let sourceDir: string | undefined;
    for (const input of Array.isArray(d.ProcessingInputs)
      ? d.ProcessingInputs.filter(isRecord)
      : []) {
      const source = isRecord(input.S3Input) ? input.S3Input : undefined;
      if (!source)
        throw new Error(
          `processing input ${String(input.InputName)} has no S3Input (the local cloud reads inputs from S3 only)`,
        );
      stageS3Input(
        this.options.store,
        String(source.S3Uri),
        String(source.S3DataType ?? "S3Prefix"),
        local(String(source.LocalPath)),
      );
      // The SageMaker Python SDK's FrameworkProcessor convention, which bootstrap.py follows too.
      if (input.InputName === "code")
        sourceDir = join(local(String(source.LocalPath)), "sourcedir.tar.gz");
    }
    const requirements =
      sourceDir && existsSync(sourceDir) ? readTarMember(sourceDir, "requirements.txt") : undefined;
    const outputs =
      isRecord(d.ProcessingOutputConfig) && Array.isArray(d.ProcessingOutputConfig.Outputs)
        ? d.ProcessingOutputConfig.Outputs.filter(isRecord)
        : [];
    const targets = outputs.flatMap((o) =>
      isRecord(o.S3Output)
        ? [{ folder: local(String(o.S3Output.LocalPath)), uri: String(o.S3Output.S3Uri) }]
        : [],
    );
    for (const t of targets) mkdirSync(t.folder, { recursive: true });
    const entrypoint = Array.isArray(app.ContainerEntrypoint)
      ? app.ContainerEntrypoint.map(String)
      : [];
    const args = Array.isArray(app.ContainerArguments) ? app.ContainerArguments.map(String) : [];
    const argv = [...entrypoint, ...args].map((a, i) =>
      i === 0 && /^python3?$/.test(a) ? this.options.python : inJob(a),
    );
    if (argv.length === 0)
      throw new Error(
        "the processing job has no ContainerEntrypoint (the local cloud cannot run an image default command)",
      );
    const environment = isRecord(d.Environment) ? (d.Environment as Record<string, string>) : {};
    return {
      command: {
        argv,
        cwd: optMl,
        env: { ...jobEnvironment(this.options.python, optMl, this.options.region), ...environment },
      },
      image: typeof app.ImageUri === "string" ? app.ImageUri : "",
      ...(requirements === undefined ? {} : { requirements: { text: requirements, cwd: base } }),
      messageFile: join(base, "output", "message"),
      upload: () => {
        for (const t of targets) uploadOutputs(this.options.store, t.folder, t.uri);
      },
    };
  }

  private prepareTransform(record: JobRecord, base: string, optMl: string): Prepared {
    const d = record.describe;
    const model = this.model(String(d.ModelName));
    const container = isRecord(model.PrimaryContainer) ? model.PrimaryContainer : {};
    const modelEnv = isRecord(container.Environment)
      ? (container.Environment as Record<string, string>)
      : {};
    const modelArchive = join(base, "model.tar.gz");
    downloadObject(this.options.store, parseS3Uri(String(container.ModelDataUrl)), modelArchive);
    const code = join(base, "code");
    // An S3 sourcedir.tar.gz is unpacked to /opt/ml/code; a path (the SDK's repacked models
    // say /opt/ml/model/code) is read from the unpacked model by modeldrop_ml.serving.
    const submitDirectory = modelEnv.SAGEMAKER_SUBMIT_DIRECTORY ?? "";
    const stagedCode = submitDirectory.startsWith("s3://");
    if (stagedCode) {
      const archive = join(base, "sourcedir.tar.gz");
      downloadObject(this.options.store, parseS3Uri(submitDirectory), archive);
      unpackTarGz(archive, code);
    } else {
      mkdirSync(code, { recursive: true });
    }
    const input = isRecord(d.TransformInput) ? d.TransformInput : {};
    const source =
      isRecord(input.DataSource) && isRecord(input.DataSource.S3DataSource)
        ? input.DataSource.S3DataSource
        : {};
    const inputs = join(base, "input");
    stageS3Input(
      this.options.store,
      String(source.S3Uri),
      String(source.S3DataType ?? "S3Prefix"),
      inputs,
    );
    const output = isRecord(d.TransformOutput) ? d.TransformOutput : {};
    const outputs = join(base, "output", "predictions");
    mkdirSync(outputs, { recursive: true });
    const argv = [
      this.options.python,
      "-m",
      "modeldrop_ml.batch_transform",
      "--model",
      join(optMl, "model.tar.gz"),
      "--input",
      join(optMl, "input"),
      "--output",
      join(optMl, "output", "predictions"),
      "--content-type",
      String(input.ContentType ?? "text/csv"),
      // No Accept: the serving toolkit's default (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
      ...(output.Accept === undefined ? [] : ["--accept", String(output.Accept)]),
      ...(stagedCode ? ["--code", join(optMl, "code")] : []),
      "--split-type",
      String(input.SplitType ?? "None"),
      "--batch-strategy",
      String(d.BatchStrategy ?? "MultiRecord"),
      "--max-payload-mb",
      String(d.MaxPayloadInMB ?? 6),
    ];
    return {
      command: {
        argv,
        cwd: join(optMl, "code"),
        env: {
          ...jobEnvironment(this.options.python, optMl, this.options.region),
          ...modelEnv,
          PYTHONPATH: join(optMl, "code"),
        },
      },
      image: typeof container.Image === "string" ? container.Image : "",
      // modeldrop_ml.batch_transform (the local stand-in for the serving container) writes
      // its reason where the other jobs' runners write theirs.
      messageFile: join(base, "output", "failure"),
      upload: () => {
        uploadOutputs(this.options.store, outputs, String(output.S3OutputPath));
      },
    };
  }

  private stop(kind: JobKind, name: string): Record_ {
    const record = this.job(kind, name);
    const status = String(record.describe[STATUS_FIELD[kind]]);
    if (TERMINAL.has(status)) {
      throw new AwsError(
        "ValidationException",
        `The request was rejected because the ${kind.toLowerCase()} job is in status ${status}.`,
      );
    }
    const key = jobKey(kind, name);
    const running = this.running.get(key);
    this.update(record, { [STATUS_FIELD[kind]]: "Stopping" });
    if (kind === "Training") this.transition(record, "Stopping", "Stopping the training job");
    if (running) running.stop("user");
    // A launched job between processes (preparing its requirements) sees Stopping and ends.
    else if (!this.launched.has(key)) this.finish(record, "Stopped", {});
    return {};
  }

  private list(kind: JobKind, input: Record_): Record_[] {
    const contains = optionalString(input, "NameContains")?.toLowerCase();
    const status = optionalString(input, "StatusEquals");
    const max = typeof input.MaxResults === "number" ? input.MaxResults : 100;
    return [...this.jobs.values()]
      .filter(
        (r) =>
          r.kind === kind &&
          (!contains || r.name.toLowerCase().includes(contains)) &&
          (!status || r.describe[STATUS_FIELD[kind]] === status),
      )
      .sort((a, b) => Number(b.describe.CreationTime) - Number(a.describe.CreationTime))
      .slice(0, max)
      .map((r) => ({
        [`${kind}JobName`]: r.name,
        [`${kind}JobArn`]: r.describe[`${kind}JobArn`],
        CreationTime: r.describe.CreationTime,
        LastModifiedTime: r.describe.LastModifiedTime,
        [`${kind}EndTime`]: r.describe[`${kind}EndTime`],
        [STATUS_FIELD[kind]]: r.describe[STATUS_FIELD[kind]],
      }));
  }

  private createModel(input: Record_): Record_ {
    const name = requireString(input, "ModelName");
    const arn = `arn:aws:sagemaker:${this.options.region}:${this.options.account}:model/${name.toLowerCase()}`;
    if (this.models.has(name))
      throw new AwsError("ValidationException", `Cannot create already existing model "${arn}".`);
    const { Tags: tags, ...request } = input;
    this.models.set(name, { ...request, ModelArn: arn, CreationTime: Date.now() / 1000 });
    this.saveModels();
    this.tag(arn, tags);
    return { ModelArn: arn };
  }

  /** The tags a Create request carried, kept beside the resource instead of in its Describe answer. */
  private tag(arn: string, tags: unknown): void {
    const list = tagList(tags);
    if (list.length === 0) return;
    this.tags.set(arn, list);
    this.saveTags();
  }

  /** The ARN of a job or model of this account and region; AWS refuses to tag anything else. */
  private taggable(arn: string): string {
    const known =
      [...this.models.values()].some((m) => m.ModelArn === arn) ||
      this.hosting.owns(arn) ||
      [...this.jobs.values()].some((r) => r.describe[`${r.kind}JobArn`] === arn);
    if (!known)
      throw new AwsError(
        "ValidationException",
        `Resource ${arn} does not exist or is not taggable.`,
      );
    return arn;
  }

  private model(name: string): Record_ {
    const model = this.models.get(name);
    if (!model)
      throw new AwsError(
        "ValidationException",
        `Could not find model "arn:aws:sagemaker:${this.options.region}:${this.options.account}:model/${name.toLowerCase()}".`,
      );
    return model;
  }

  private job(kind: JobKind, name: string): JobRecord {
    const record = this.jobs.get(jobKey(kind, name));
    if (!record)
      throw new AwsError(
        "ResourceNotFound",
        `Requested resource not found: ${kind.toLowerCase()} job ${name}`,
      );
    return record;
  }

  private transition(record: JobRecord, status: string, message: string): void {
    if (record.kind !== "Training") return;
    const now = Date.now() / 1000;
    const transitions = Array.isArray(record.describe.SecondaryStatusTransitions)
      ? record.describe.SecondaryStatusTransitions.filter(isRecord)
      : [];
    const last = transitions.at(-1);
    if (last && last.EndTime === undefined) last.EndTime = now;
    if (!TERMINAL.has(status) && status !== "MaxRuntimeExceeded")
      transitions.push({ Status: status, StartTime: now, StatusMessage: message });
    else transitions.push({ Status: status, StartTime: now, EndTime: now, StatusMessage: message });
    this.update(record, { SecondaryStatus: status, SecondaryStatusTransitions: transitions });
  }

  private finish(
    record: JobRecord,
    status: "Completed" | "Failed" | "Stopped",
    fields: Record_,
  ): void {
    if (
      record.kind === "Training" &&
      !TERMINAL.has(String(record.describe.SecondaryStatus)) &&
      record.describe.SecondaryStatus !== "MaxRuntimeExceeded"
    ) {
      this.transition(
        record,
        status,
        status === "Failed" ? String(fields.FailureReason ?? "Failed") : status,
      );
    }
    delete record.pid;
    this.update(record, { ...fields, [STATUS_FIELD[record.kind]]: status });
  }

  private update(record: JobRecord, fields: Record_): void {
    Object.assign(record.describe, fields, { LastModifiedTime: Date.now() / 1000 });
    this.save(record);
    this.options.onStatus?.(
      record.kind,
      record.name,
      String(record.describe[STATUS_FIELD[record.kind]]),
    );
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private save(record: JobRecord): void {
    writeJsonAtomic(join(this.root, "records", record.kind, `${record.name}.json`), record);
  }

  private saveModels(): void {
    writeJsonAtomic(join(this.root, "models.json"), Object.fromEntries(this.models));
  }

  private saveTags(): void {
    writeJsonAtomic(join(this.root, "tags.json"), Object.fromEntries(this.tags));
  }
}

interface Tag {
  Key: string;
  Value: string;
}

/** Tags as the API model has validated them (Key and Value both required). */
function tagList(tags: unknown): Tag[] {
  return Array.isArray(tags)
    ? tags.filter(isRecord).map((t) => ({ Key: String(t.Key), Value: String(t.Value ?? "") }))
    : [];
}

/**
 * A job's Describe answer with the members SageMaker fills in when the request leaves them out.
 * The SageMaker Python SDK's `Estimator.attach` reads `OutputDataConfig.KmsKeyId` and
 * `StoppingCondition.MaxRuntimeInSeconds` without a default.
 */
function withServiceDefaults(kind: JobKind, request: Record_): Record_ {
  if (kind !== "Training") return request;
  const output = isRecord(request.OutputDataConfig) ? request.OutputDataConfig : {};
  const stopping = isRecord(request.StoppingCondition) ? request.StoppingCondition : {};
  return {
    EnableNetworkIsolation: false,
    EnableInterContainerTrafficEncryption: false,
    EnableManagedSpotTraining: false,
    ...request,
    OutputDataConfig: { KmsKeyId: "", ...output },
    StoppingCondition: { MaxRuntimeInSeconds: 86400, ...stopping },
  };
}

interface Prepared {
  command: JobCommand;
  /** The image the request names: the cached virtualenvs are per image, as on AWS. */
  image: string;
  /** The code's requirements.txt: where pip reads it (training) and runs. */
  requirements?: { text: string; file?: string; cwd: string };
  messageFile: string;
  upload: () => void;
}

/** The FailureReason of a job that failed before or around its process. */
function failureReason(error: unknown): string {
  if (error instanceof JobCannotStart) return error.failureReason;
  if (error instanceof RequirementsNotInstalled) return `ClientError: ${error.message}`;
  return `InternalServerError: ${error instanceof Error ? error.message : String(error)}`;
}

/** A job stopped before its process started. */
function stoppedOutcome(): JobOutcome {
  return {
    exitCode: null,
    signal: null,
    message: undefined,
    metrics: {},
    stderrTail: [],
    stoppedBy: "user",
  };
}

/** The exit code as a shell reports it (128 + the signal's number for a killed process). */
function exitStatus(outcome: JobOutcome): number {
  if (outcome.exitCode !== null) return outcome.exitCode;
  const signal = outcome.signal ? constants.signals[outcome.signal] : undefined;
  return signal === undefined ? 1 : 128 + signal;
}

/**
 * The job's command on its requirements' interpreter: the framework Python it would have run
 * is replaced, the virtualenv's `bin` (python, python3, pip) comes first on PATH, and
 * MODELDROP_REQUIREMENTS_SHA256 tells bootstrap.py that requirements.txt is installed.
 */
function withPython(
  command: JobCommand,
  framework: string,
  python: RequirementsPython,
): JobCommand {
  return {
    ...command,
    argv: command.argv.map((arg, i) => (i === 0 && arg === framework ? python.python : arg)),
    env: {
      ...command.env,
      ...(python.bin ? { PATH: [python.bin, command.env.PATH].filter(Boolean).join(":") } : {}),
      MODELDROP_REQUIREMENTS_SHA256: python.sha256,
    },
  };
}

/** What pip needs of the local cloud's environment to reach its index (proxies, pip's settings, CAs). */
function pipEnvironment(): Record<string, string> {
  const wanted =
    /^(PIP_.*|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|XDG_(CACHE|CONFIG)_HOME)$/;
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => wanted.test(entry[0]) && entry[1] !== undefined,
    ),
  );
}

/** A folder's entries, for a reason that says what was there instead. */
function listing(folder: string): string {
  const names = readdirSync(folder).sort();
  const shown = names.slice(0, 20).join(", ");
  return names.length === 0 ? "nothing" : names.length > 20 ? `${shown}, …` : shown;
}

function jobKey(kind: JobKind, name: string): string {
  // Job names are unique regardless of case on AWS (ARNs are lower-cased).
  return `${kind}:${name.toLowerCase()}`;
}

function instanceType(config: unknown): string {
  return isRecord(config) && typeof config.InstanceType === "string"
    ? config.InstanceType
    : "ml.m5.large";
}

/** The instances the request asks for (training, processing and transform name the field alike). */
function instanceCount(record: JobRecord): number {
  const d = record.describe;
  const resources =
    record.kind === "Training"
      ? d.ResourceConfig
      : record.kind === "Processing"
        ? isRecord(d.ProcessingResources)
          ? d.ProcessingResources.ClusterConfig
          : undefined
        : d.TransformResources;
  return isRecord(resources) && typeof resources.InstanceCount === "number"
    ? resources.InstanceCount
    : 1;
}

/** The SageMaker Python SDK JSON-encodes hyperparameter strings (`"\"train.py\""`); accept both. */
function stripQuotes(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function rmSafe(folder: string): void {
  // Completed job folders are large (channels, model); failed ones are kept for inspection.
  try {
    rmSync(folder, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
