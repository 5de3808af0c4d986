/**
 * The training pipeline's execution input: everything the state machine needs, decided once
 * when the run starts and derived only from the run (no clock, no randomness), so starting the
 * same run twice gives the same input and Step Functions answers idempotently.
 */
import containers from "../ml/modeldrop_ml/containers.json" with { type: "json" };
import type { Hyperparameters, RunOptions } from "./options.js";
import type { TrainingState } from "./pipeline-state.js";
import type { DatasetKind, JobKind } from "./run-record.js";
import { defaultModelName, fileName, jobName } from "./runs.js";

/**
 * The execution input, in the shape the pipeline's tasks parse (core/pipeline-state.ts), with
 * nothing added yet: the state machine fills `steps` with each job's times (ResultPath needs
 * the parent to exist).
 */
export type PipelineInput = Omit<TrainingState, "steps" | "failure" | "failedStep" | "kind"> & {
  steps: Record<string, never>;
};

/**
 * The instance types a run gets when its options name none. containers.json holds modeldrop's
 * defaults; a deployment may set its own (stack parameters, see serverless.yml).
 */
export interface InstanceDefaults {
  processing: string;
  training: string;
  /** Training on images: a GPU instance unless the deployment says otherwise. */
  trainingImages: string;
  transform: string;
}

export const INSTANCE_DEFAULTS: InstanceDefaults = {
  processing: containers.default_instance_types.processing,
  training: containers.default_instance_types.training,
  trainingImages: containers.default_instance_types.training_images,
  transform: containers.default_instance_types.transform,
};

const DEFAULT_RUNTIME: Record<JobKind, number> = {
  processing: 3_600,
  training: 86_400,
  transform: 3_600,
};

/** `s3://<bucket>/code/<sha256>/sourcedir.tar.gz`, as the deploy step uploads it. */
function codeLocation(bucket: string, sha256: string): PipelineInput["code"] {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`code hash ${sha256} is not a sha256`);
  return {
    sha256,
    sourcedir: `s3://${bucket}/code/${sha256}/sourcedir.tar.gz`,
    bootstrap: `s3://${bucket}/code/${sha256}/bootstrap.py`,
  };
}

function isGpuInstance(instanceType: string): boolean {
  const family = instanceType.split(".")[1] ?? "";
  return containers.gpu_instance_families.includes(family);
}

/** The image a job runs in (ml/modeldrop_ml/containers.json is the one place naming them). */
export function imageUri(kind: JobKind, region: string, instanceType: string): string {
  const image = containers.images[kind];
  const accounts: Record<string, string> = containers.registry_account;
  const account = accounts[region] ?? containers.registry_account.default;
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  const tag = isGpuInstance(instanceType) ? image.gpu : image.cpu;
  return `${account}.dkr.ecr.${region}.${domain}/${image.repository}:${tag}`;
}

/** Hyperparameters as SageMaker takes them: a map of strings, plus the script-mode entries. */
function trainingHyperParameters(options: RunOptions, sourcedir: string): Record<string, string> {
  const values: Record<string, string> = {
    sagemaker_program: "train.py",
    sagemaker_submit_directory: sourcedir,
  };
  if (options.algorithm) values.algorithm = options.algorithm;
  const hyperparameters: Hyperparameters = options.hyperparameters ?? {};
  for (const [name, value] of Object.entries(hyperparameters))
    if (value !== undefined) values[name] = String(value);
  return values;
}

export function pipelineInput(args: {
  runId: string;
  bucket: string;
  region: string;
  source: { key: string; versionId: string };
  kind: DatasetKind;
  options: RunOptions;
  codeSha256: string;
  instanceDefaults?: InstanceDefaults;
}): PipelineInput {
  const { runId, bucket, region, options, kind } = args;
  const name = fileName(args.source.key);
  const root = `runs/${runId}`;
  const s3 = (key: string) => `s3://${bucket}/${key}`;
  const defaults = args.instanceDefaults ?? INSTANCE_DEFAULTS;
  const types = options.instanceTypes ?? {};
  const runtimes = options.maxRuntimeSeconds ?? {};
  const spec = (step: "preprocess" | "train" | "evaluate" | "transform", job: JobKind) => {
    const fallback =
      job === "training" && kind === "images" ? defaults.trainingImages : defaults[job];
    const instanceType = types[job] ?? fallback;
    return {
      name: jobName(runId, step),
      image: imageUri(job, region, instanceType),
      instanceType,
      maxRuntimeSeconds: runtimes[job] ?? DEFAULT_RUNTIME[job],
    };
  };
  const code = codeLocation(bucket, args.codeSha256);
  return {
    runId,
    bucket,
    dataset: { name, kind },
    source: args.source,
    paths: {
      inputKey: `${root}/input/${name}`,
      input: s3(`${root}/input/${name}`),
      optionsKey: `${root}/options/options.json`,
      options: s3(`${root}/options/options.json`),
      processed: s3(`${root}/processed`),
      trainChannel: s3(`${root}/processed/train/`),
      validationChannel: s3(`${root}/processed/validation/`),
      test: s3(`${root}/processed/test/`),
      jobs: s3(`${root}/jobs`),
      evaluation: s3(`${root}/evaluation`),
      evaluationKey: `${root}/evaluation/evaluation.json`,
      predictions: s3(`${root}/predictions`),
      reportKey: `${root}/report/index.html`,
    },
    code,
    jobs: {
      preprocess: spec("preprocess", "processing"),
      train: spec("train", "training"),
      evaluate: spec("evaluate", "processing"),
      transform: spec("transform", "transform"),
    },
    model: {
      name: options.modelName ?? defaultModelName(args.source.key),
      sageMakerName: jobName(runId, "model"),
      manualApproval: options.manualApproval ?? false,
    },
    batch:
      kind === "images"
        ? {
            input: s3(`${root}/processed/transform/`),
            contentType: "application/x-image",
            splitType: "None",
          }
        : { input: s3(`${root}/processed/transform/`), contentType: "text/csv", splitType: "Line" },
    hyperParameters: trainingHyperParameters(options, code.sourcedir),
    options,
    steps: {},
  };
}
