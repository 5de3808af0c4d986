// What a SageMaker container finds besides its data: the configuration files SageMaker writes
// (resourceconfig.json, inputdataconfig.json, processingjobconfig.json) and, for training, what
// the SageMaker training toolkit gives the user's script (aws/sagemaker-training-toolkit,
// environment.py and mapping.py): SM_TRAINING_ENV, the SM_* variables derived from it with the
// same names and value formats, and the hyperparameters as sorted `--name value` arguments.
// Also the failure text the toolkit writes to /opt/ml/output/failure when the script fails.
import { readdirSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { isRecord } from "./http.js";

type Json = Record<string, unknown>;

/** The one instance a local job runs on, named as SageMaker names the first. */
export const HOST = "algo-1";
const GROUP = "homogeneousCluster";

/** The training toolkit's own hyperparameters (params.SAGEMAKER_HYPERPARAMETERS). */
const TOOLKIT_HYPERPARAMETERS = new Set([
  "sagemaker_program",
  "sagemaker_submit_directory",
  "sagemaker_enable_cloudwatch_metrics",
  "sagemaker_region",
  "sagemaker_container_log_level",
  "sagemaker_job_name",
  "default_user_module_name",
  "_tuning_objective_metric",
  "sagemaker_s3_output",
]);

/** Framework parameters that put the current instance group into the distribution. */
const DISTRIBUTION_PARAMETERS = [
  "sagemaker_mpi_enabled",
  "sagemaker_parameter_server_enabled",
  "sagemaker_distributed_dataparallel_enabled",
  "sagemaker_pytorch_ddp_enabled",
  "sagemaker_pytorch_xla_multi_worker_enabled",
  "sagemaker_multi_worker_mirrored_strategy_enabled",
  "sagemaker_torch_distributed_enabled",
];

/** resourceconfig.json: `/opt/ml/input/config/` for training, `/opt/ml/config/` for processing. */
export function resourceConfig(instanceType: string): Json {
  return {
    current_host: HOST,
    current_instance_type: instanceType,
    current_group_name: GROUP,
    hosts: [HOST],
    instance_groups: [{ instance_group_name: GROUP, instance_type: instanceType, hosts: [HOST] }],
    network_interface_name: "eth0",
  };
}

/** One channel's entry in inputdataconfig.json. */
export function inputDataConfigEntry(channel: Json, source: Json, defaultMode: string): Json {
  return {
    ...(typeof channel.ContentType === "string" ? { ContentType: channel.ContentType } : {}),
    TrainingInputMode: typeof channel.InputMode === "string" ? channel.InputMode : defaultMode,
    S3DistributionType: source.S3DataDistributionType ?? "FullyReplicated",
    RecordWrapperType: channel.RecordWrapperType ?? "None",
  };
}

/**
 * /opt/ml/config/processingjobconfig.json: the request as SageMaker completes it, in the shape
 * the "build your own processing container" guide documents (absent optional members as null).
 */
export function processingJobConfig(describe: Json): Json {
  const app = isRecord(describe.AppSpecification) ? describe.AppSpecification : {};
  const output = isRecord(describe.ProcessingOutputConfig) ? describe.ProcessingOutputConfig : {};
  const resources = isRecord(describe.ProcessingResources) ? describe.ProcessingResources : {};
  const cluster = isRecord(resources.ClusterConfig) ? resources.ClusterConfig : {};
  const inputs = Array.isArray(describe.ProcessingInputs)
    ? describe.ProcessingInputs.filter(isRecord)
    : [];
  return {
    ProcessingJobArn: describe.ProcessingJobArn,
    ProcessingJobName: describe.ProcessingJobName,
    AppSpecification: {
      ImageUri: app.ImageUri,
      ContainerEntrypoint: app.ContainerEntrypoint ?? null,
      ContainerArguments: app.ContainerArguments ?? null,
    },
    Environment: describe.Environment ?? {},
    ...(describe.NetworkConfig === undefined ? {} : { NetworkConfig: describe.NetworkConfig }),
    ProcessingInputs: inputs.map((input) =>
      isRecord(input.S3Input)
        ? {
            ...input,
            S3Input: {
              S3DataDistributionType: "FullyReplicated",
              S3InputMode: "File",
              S3CompressionType: "None",
              ...input.S3Input,
            },
          }
        : input,
    ),
    ProcessingOutputConfig: { KmsKeyId: null, ...output },
    ProcessingResources: { ClusterConfig: { VolumeKmsKeyId: null, ...cluster } },
    RoleArn: describe.RoleArn,
    StoppingCondition: describe.StoppingCondition ?? { MaxRuntimeInSeconds: 86400 },
  };
}

export interface TrainingJob {
  name: string;
  arn: string;
  region: string;
  /** `/opt/ml` in the job's namespace; the job folder where there is none. */
  optMl: string;
  /** As the request carries them: every value a string (JSON-encoded by the Python SDK). */
  hyperparameters: Record<string, string>;
  inputDataConfig: Json;
  resourceConfig: Json;
}

/** The training toolkit's environment for the user's script, and the script's arguments. */
export function trainingContract(job: TrainingJob): {
  env: Record<string, string>;
  args: string[];
} {
  const path = (...parts: string[]) => join(job.optMl, ...parts);
  const values = Object.entries(job.hyperparameters).map(([key, raw]) => ({
    key,
    raw,
    value: deserialize(raw),
  }));
  const isToolkit = (key: string) =>
    TOOLKIT_HYPERPARAMETERS.has(key) || key.startsWith("sagemaker_");
  const user = values.filter((v) => !isToolkit(v.key));
  const toolkit = Object.fromEntries(
    values.filter((v) => isToolkit(v.key)).map((v) => [v.key, v.value]),
  );
  const framework = Object.fromEntries(
    Object.entries(toolkit).filter(([key]) => !TOOLKIT_HYPERPARAMETERS.has(key)),
  );
  const hyperparameters = Object.fromEntries(user.map((v) => [v.key, numberText(v)]));
  const channels = Object.keys(job.inputDataConfig).sort();
  const channelDirs = Object.fromEntries(channels.map((c) => [c, path("input", "data", c)]));
  const program = toolkit.sagemaker_program === undefined ? "" : String(toolkit.sagemaker_program);
  const instanceType = String(job.resourceConfig.current_instance_type);
  const distributed = DISTRIBUTION_PARAMETERS.some((key) => pythonTruthy(framework[key]));
  const distributionHosts = distributed ? [HOST] : [];
  const master = distributionHosts[0] ?? HOST;
  const args = user
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .flatMap((v) => [v.key.length > 1 ? `--${v.key}` : `-${v.key}`, argumentText(v.value, v.raw)]);
  const properties: Json = {
    additional_framework_parameters: framework,
    channel_input_dirs: channelDirs,
    current_host: HOST,
    current_instance_group: GROUP,
    current_instance_group_hosts: [HOST],
    current_instance_type: instanceType,
    distribution_hosts: distributionHosts,
    distribution_instance_groups: distributed ? [GROUP] : [],
    framework_module: null,
    hosts: [HOST],
    hyperparameters,
    input_config_dir: path("input", "config"),
    input_data_config: job.inputDataConfig,
    input_dir: path("input"),
    instance_groups: [GROUP],
    instance_groups_dict: {
      [GROUP]: { instance_group_name: GROUP, instance_type: instanceType, hosts: [HOST] },
    },
    is_hetero: false,
    is_master: master === HOST,
    is_modelparallel_enabled: null,
    is_smddpmprun_installed: false,
    is_smddprun_installed: false,
    job_name: job.name,
    log_level: toolkit.sagemaker_container_log_level ?? 20,
    master_hostname: master,
    model_dir: path("model"),
    module_dir: String(toolkit.sagemaker_submit_directory ?? path("code")),
    module_name: program.endsWith(".py") ? program.slice(0, -3) : program,
    network_interface_name: "eth0",
    num_cpus: cpus().length,
    num_gpus: gpuCount(),
    num_neurons: 0,
    output_data_dir: path("output", "data"),
    output_dir: path("output"),
    output_intermediate_dir: path("output", "intermediate"),
    resource_config: job.resourceConfig,
    topology: [],
    user_entry_point: program,
  };
  // Environment.to_env_vars: these names, SM_ and upper-cased, plus one per channel and hyperparameter.
  const exported: Json = {
    hosts: properties.hosts,
    network_interface_name: properties.network_interface_name,
    hps: hyperparameters,
    user_entry_point: program,
    framework_params: framework,
    resource_config: job.resourceConfig,
    input_data_config: job.inputDataConfig,
    output_data_dir: properties.output_data_dir,
    channels,
    current_host: HOST,
    current_instance_type: instanceType,
    current_instance_group: GROUP,
    current_instance_group_hosts: properties.current_instance_group_hosts,
    instance_groups: properties.instance_groups,
    instance_groups_dict: properties.instance_groups_dict,
    distribution_instance_groups: properties.distribution_instance_groups,
    is_hetero: false,
    module_name: properties.module_name,
    log_level: properties.log_level,
    framework_module: null,
    input_dir: properties.input_dir,
    input_config_dir: properties.input_config_dir,
    output_dir: properties.output_dir,
    num_cpus: properties.num_cpus,
    num_gpus: properties.num_gpus,
    num_neurons: 0,
    model_dir: properties.model_dir,
    module_dir: properties.module_dir,
    training_env: properties,
    user_args: args,
    output_intermediate_dir: properties.output_intermediate_dir,
    ...Object.fromEntries(Object.entries(channelDirs).map(([c, dir]) => [`channel_${c}`, dir])),
    ...Object.fromEntries(Object.entries(hyperparameters).map(([k, v]) => [`hp_${k}`, v])),
  };
  const env: Record<string, string> = {
    // Set by SageMaker in the container, and by the toolkit for the processes it starts.
    TRAINING_JOB_NAME: job.name,
    TRAINING_JOB_ARN: job.arn,
    CURRENT_HOST: HOST,
    SAGEMAKER_JOB_NAME: String(toolkit.sagemaker_job_name ?? ""),
    SAGEMAKER_REGION: String(toolkit.sagemaker_region ?? job.region),
  };
  for (const [key, value] of Object.entries(exported))
    env[`SM_${key.toUpperCase()}`] = envText(value);
  return { env, args };
}

/** How the toolkit reads a hyperparameter: JSON when it parses, the string itself otherwise. */
function deserialize(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Python keeps `1.0` a float; JavaScript would print 1, so a number keeps the text it came as. */
class NumberText {
  constructor(readonly text: string) {}
}

function numberText(v: { raw: string; value: unknown }): unknown {
  return typeof v.value === "number" ? new NumberText(v.raw.trim()) : v.value;
}

/** mapping.to_env_vars' format_value: strings as they are, None empty, the rest JSON. */
function envText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return pythonJson(value);
}

/** json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True). */
function pythonJson(value: unknown): string {
  if (value instanceof NumberText) return value.text;
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(",")}]`;
  if (isRecord(value))
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${asciiJson(key)}:${pythonJson(value[key])}`)
      .join(",")}}`;
  if (typeof value === "string") return asciiJson(value);
  return JSON.stringify(value ?? null);
}

function asciiJson(text: string): string {
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** mapping.to_cmd_args' value: Python's str() of the deserialized value; a dict as `k=v,…`. */
function argumentText(value: unknown, raw: string): string {
  if (typeof value === "number") return raw.trim();
  if (value === null) return "";
  if (isRecord(value))
    return Object.keys(value)
      .sort()
      .map((key) => `${key}=${pythonStr(value[key])}`)
      .join(",");
  return pythonStr(value);
}

function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (typeof value === "string")
    return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (isRecord(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(", ")}}`;
  return String(value);
}

function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** GPUs the job would see: the toolkit counts `nvidia-smi --list-gpus`; the driver lists one folder each. */
function gpuCount(): number {
  try {
    return readdirSync("/proc/driver/nvidia/gpus").length;
  } catch {
    return 0;
  }
}

/** How much of the script's stderr a failure reason quotes: a traceback's end fits. */
const ERROR_MESSAGE_LINES = 10;
const ERROR_MESSAGE_CHARS = 700;

/**
 * The lines of `stderr` that say why a script failed: from the last `Traceback` on (the
 * exception that ended it, after any it was raised while handling), else the last lines (a
 * SyntaxError has no traceback), at most ERROR_MESSAGE_LINES lines and ERROR_MESSAGE_CHARS
 * characters, the end kept.
 */
export function errorLines(stderr: string[]): string {
  const lines = stderr.map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  const traceback = lines.map((line) => line.startsWith("Traceback (")).lastIndexOf(true);
  const text = lines.slice(Math.max(traceback, 0)).slice(-ERROR_MESSAGE_LINES).join("\n");
  return text.length > ERROR_MESSAGE_CHARS ? `…${text.slice(-ERROR_MESSAGE_CHARS)}` : text;
}

/**
 * The failure file the training toolkit writes when the script exits non-zero and wrote none
 * itself (errors.py, ExecuteUserScriptError's `__str__`; 137 gets its OutOfMemory ExtraInfo).
 */
export function executeUserScriptError(
  exitCode: number,
  stderr: string[],
  command: string[],
): string {
  const extraInfo =
    exitCode === 137 ? '\nExtraInfo "OutOfMemory: Process killed by SIGKILL (signal 9)"' : "";
  return `ExecuteUserScriptError:\nExitCode ${exitCode}\nErrorMessage "${errorLines(stderr)}"${extraInfo}\nCommand "${command.join(" ")}"`;
}
