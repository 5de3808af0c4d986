/**
 * The training pipeline's execution input: everything the state machine needs, decided once
 * when the run starts and derived only from the run (no clock, no randomness), so starting the
 * same run twice gives the same input and Step Functions answers idempotently.
 */
import containers from "../ml/modeldrop_ml/containers.json" with { type: "json" };
import presets from "../ml/modeldrop_ml/presets.json" with { type: "json" };
import { type CodeManifest, frameworkImageUri } from "./code-manifest.js";
import { algorithmsTaking, type Hyperparameters, type RunOptions } from "./options.js";
import {
  type ProcessingItem,
  type TrainingCandidate,
  type TrainingState,
  trainedModelUri,
} from "./pipeline-state.js";
import type { DatasetKind, JobKind } from "./run-record.js";
import { candidateStep, defaultModelName, fileName, jobName } from "./runs.js";

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

type RequestPart = Record<string, unknown>;

const PROCESSING = "/opt/ml/processing";
const ENTRYPOINT = `${PROCESSING}/input/entrypoint`;
const CODE = `${PROCESSING}/input/code`;
/** bootstrap.py unpacks the code input and runs a built-in job or a user's script. */
const BOOTSTRAP = ["python3", `${ENTRYPOINT}/bootstrap.py`, "--code", `${CODE}/sourcedir.tar.gz`];

function s3Input(name: string, uri: string, localPath: string): RequestPart {
  return {
    InputName: name,
    S3Input: {
      S3Uri: uri,
      LocalPath: localPath,
      S3DataType: "S3Prefix",
      S3InputMode: "File",
      S3DataDistributionType: "FullyReplicated",
    },
  };
}

function s3Output(name: string, uri: string, localPath: string): RequestPart {
  return {
    OutputName: name,
    S3Output: { S3Uri: uri, LocalPath: localPath, S3UploadMode: "EndOfJob" },
  };
}

/** The AppSpecification of a user's script: bootstrap.py runs it with its arguments. */
function scriptApp(image: string, script: string, args: string[] | undefined) {
  return {
    ImageUri: image,
    ContainerEntrypoint: [...BOOTSTRAP, "--script", script],
    ...(args?.length ? { ContainerArguments: args } : {}),
  };
}

function channel(name: string, uri: string): RequestPart {
  return {
    ChannelName: name,
    DataSource: {
      S3DataSource: {
        S3DataType: "S3Prefix",
        S3Uri: uri,
        S3DataDistributionType: "FullyReplicated",
      },
    },
  };
}

/** Candidate jobs at once when the deployment sets no limit of its own (the account's quota may be lower). */
export const DEFAULT_PARALLEL_JOBS = 4;

/** The pinned hyperparameters none of the run's candidates takes. */
function unclaimed(options: RunOptions, algorithms: string[]): string[] {
  return Object.keys(options.hyperparameters ?? {}).filter(
    (name) => !algorithms.some((algorithm) => algorithmsTaking(name).includes(algorithm)),
  );
}

/** The algorithms a built-in run trains: the one `algorithm` pins, resnet18 for images, else the preset's. */
export function candidateAlgorithms(options: RunOptions, kind: DatasetKind): string[] {
  if (options.algorithm) return [options.algorithm];
  if (kind === "images") return ["resnet18"];
  return presets.presets[options.preset ?? (presets.default as keyof typeof presets.presets)]
    .tabular;
}

/**
 * Each candidate's share of the budget: the candidates run `slots` at a time, so the whole
 * search ends within the budget when each stays within its share (and never under presets.json's
 * floor).
 */
export function candidateSeconds(budget: number, candidates: number, slots: number): number {
  const rounds = Math.ceil(candidates / Math.max(1, Math.min(slots, candidates)));
  return Math.max(presets.min_candidate_seconds, Math.floor(budget / rounds));
}

/**
 * A candidate's hyperparameters as SageMaker takes them (a map of strings, plus the script-mode
 * entries): the search's settings, and the hyperparameters the run pins that apply to it.
 * A pinned hyperparameter goes to every candidate it applies to; one that applies to none goes
 * to the first, whose job then refuses it by name.
 */
function builtInHyperParameters(
  options: RunOptions,
  sourcedir: string,
  algorithm: string,
  seconds: number | undefined,
  alsoPinned: string[],
): Record<string, string> {
  const values: Record<string, string> = {
    sagemaker_program: "train.py",
    sagemaker_submit_directory: sourcedir,
    algorithm,
  };
  if (options.preset) values.preset = options.preset;
  if (seconds !== undefined) values.time_budget_seconds = String(seconds);
  if (options.metric) values.metric = options.metric;
  const hyperparameters: Hyperparameters = options.hyperparameters ?? {};
  for (const [name, value] of Object.entries(hyperparameters)) {
    if (value === undefined) continue;
    if (algorithmsTaking(name).includes(algorithm) || alsoPinned.includes(name))
      values[name] = String(value);
  }
  return values;
}

/**
 * A user's hyperparameters JSON-encoded, as the SageMaker Python SDK's framework estimators
 * send them; the training toolkit decodes each value before passing `--name value`.
 */
function userHyperParameters(manifest: CodeManifest, sourcedir: string): Record<string, string> {
  const values: Record<string, string> = {
    sagemaker_program: JSON.stringify(manifest.train.entryPoint),
    sagemaker_submit_directory: JSON.stringify(sourcedir),
  };
  for (const [name, value] of Object.entries(manifest.train.hyperparameters ?? {}))
    values[name] = JSON.stringify(value);
  return values;
}

/** The registered code version a run uses, with its manifest. */
export interface UserCode {
  name: string;
  version: number;
  sha256: string;
  manifest: CodeManifest;
}

export function pipelineInput(args: {
  runId: string;
  bucket: string;
  region: string;
  source: { key: string; versionId: string };
  kind: DatasetKind;
  options: RunOptions;
  codeSha256: string;
  userCode?: UserCode;
  instanceDefaults?: InstanceDefaults;
  /** The deployment's limit on candidate training jobs at once (locally: the job slots). */
  parallelJobs?: number;
}): PipelineInput {
  const { runId, bucket, region, options, kind, userCode } = args;
  const manifest = userCode?.manifest;
  const name = fileName(args.source.key);
  const root = `runs/${runId}`;
  const s3 = (key: string) => `s3://${bucket}/${key}`;
  const defaults = args.instanceDefaults ?? INSTANCE_DEFAULTS;
  const types = options.instanceTypes ?? {};
  const runtimes = options.maxRuntimeSeconds ?? {};
  /** A job's name, instance type and time limit; the image is the built-in one unless given. */
  const spec = (
    step: string,
    job: JobKind,
    instanceType: string | undefined,
    image?: (instanceType: string) => string,
  ) => {
    const fallback =
      job === "training" && kind === "images" ? defaults.trainingImages : defaults[job];
    const chosen = instanceType ?? types[job] ?? fallback;
    return {
      name: jobName(runId, step),
      image: image ? image(chosen) : imageUri(job, region, chosen),
      instanceType: chosen,
      maxRuntimeSeconds: runtimes[job] ?? DEFAULT_RUNTIME[job],
    };
  };
  const code = codeLocation(bucket, args.codeSha256);
  const userSourcedir = userCode ? codeLocation(bucket, userCode.sha256).sourcedir : undefined;
  const frameworkImage = (scope: "training" | "inference") =>
    manifest
      ? (instanceType: string) =>
          frameworkImageUri({
            framework: manifest.framework,
            version: manifest.frameworkVersion,
            scope,
            region,
            instanceType,
            gpuFamilies: containers.gpu_instance_families,
          })
      : undefined;
  const paths = {
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
  };
  /** `dataset`, a built-in split (`preprocess/train`) or a user step's output (`clean/rows`). */
  const sourceUri = (source: string): string => {
    if (source === "dataset") return paths.input;
    const [step, output] = source.split("/");
    if (step === "preprocess") return s3(`${root}/processed/${output}/`);
    return s3(`${root}/steps/${step}/${output}/`);
  };
  const modeldropInputs = [
    s3Input("entrypoint", code.bootstrap, ENTRYPOINT),
    s3Input("code", code.sourcedir, CODE),
  ];
  /** A user's script as its job runs it: bootstrap.py from modeldrop, the code from the user. */
  const userCodeInputs = (sourcedir: string) => [
    s3Input("entrypoint", code.bootstrap, ENTRYPOINT),
    s3Input("code", sourcedir, CODE),
  ];
  const userInputs = (
    inputs: { name: string; source: string; path?: string | undefined }[] | undefined,
  ) =>
    (inputs ?? []).map((input) =>
      s3Input(
        input.name,
        sourceUri(input.source),
        input.path ?? `${PROCESSING}/input/${input.name}`,
      ),
    );

  const jobs = {
    transform: spec(
      "transform",
      "transform",
      manifest?.transform?.instanceType,
      frameworkImage("inference"),
    ),
  };

  // The training jobs: a user's train.py, or the candidates of modeldrop's search.
  const algorithms = manifest ? [] : candidateAlgorithms(options, kind);
  // Pinned hyperparameters no candidate takes go to the first, whose job refuses them by name.
  const orphans = unclaimed(options, algorithms);
  const maxParallel = Math.max(
    1,
    Math.min(
      options.maxParallelJobs ?? Number.POSITIVE_INFINITY,
      args.parallelJobs ?? DEFAULT_PARALLEL_JOBS,
    ),
  );
  const preset =
    presets.presets[options.preset ?? (presets.default as keyof typeof presets.presets)];
  const budgetSeconds = options.timeBudgetSeconds ?? preset.budget_seconds;
  const share =
    kind === "images" ? undefined : candidateSeconds(budgetSeconds, algorithms.length, maxParallel);
  const candidates: TrainingCandidate[] =
    manifest && userSourcedir
      ? [
          {
            step: "train",
            job: spec("train", "training", manifest.train.instanceType, frameworkImage("training")),
            hyperParameters: userHyperParameters(manifest, userSourcedir),
            optional: false,
          },
        ]
      : algorithms.map((algorithm, i) => {
          // One job keeps the step's plain name; a search names each job by its algorithm.
          const step = algorithms.length === 1 ? "train" : candidateStep(algorithm);
          const job = spec(step, "training", undefined);
          return {
            step,
            algorithm,
            job: {
              ...job,
              // the job's own limit: its share of the budget, with room to load, refit and save
              maxRuntimeSeconds:
                runtimes.training ??
                (share === undefined ? job.maxRuntimeSeconds : share * 2 + 900),
            },
            hyperParameters: builtInHyperParameters(
              options,
              code.sourcedir,
              algorithm,
              share,
              i === 0 ? orphans : [],
            ),
            // The first also takes a hyperparameter no candidate applies to, and must then
            // fail the run with the job's reason rather than be left out.
            optional: algorithms.length > 1 && !(i === 0 && orphans.length > 0),
          };
        });
  const selection: ProcessingItem | undefined = manifest
    ? undefined
    : (() => {
        const job = spec("select", "processing", undefined);
        return {
          step: "select",
          job,
          app: {
            ImageUri: job.image,
            ContainerEntrypoint: [
              ...BOOTSTRAP,
              "--job",
              "select",
              ...(options.preset ? ["--preset", options.preset] : []),
            ],
          },
          inputs: [
            ...modeldropInputs,
            // every candidate's model.tar.gz that exists (a failed one left none)
            ...candidates.map((candidate) =>
              s3Input(
                candidate.step,
                s3(`${root}/jobs/${candidate.job.name}/output/`),
                `${PROCESSING}/input/candidates/${candidate.step}`,
              ),
            ),
          ],
          outputs: [s3Output("model", s3(`${root}/model`), `${PROCESSING}/output/model`)],
        };
      })();
  const firstCandidate = candidates[0];
  if (!firstCandidate) throw new Error("a run trains at least one model");
  const modelUri = selection
    ? s3(`${root}/model/model.tar.gz`)
    : trainedModelUri(paths.jobs, firstCandidate.job.name);

  const builtInPreprocess: ProcessingItem = (() => {
    const job = spec("preprocess", "processing", undefined);
    return {
      step: "preprocess",
      job,
      app: { ImageUri: job.image, ContainerEntrypoint: [...BOOTSTRAP, "--job", "preprocess"] },
      inputs: [
        ...modeldropInputs,
        s3Input("data", paths.input, `${PROCESSING}/input/data`),
        s3Input("options", paths.options, `${PROCESSING}/input/options`),
      ],
      outputs: [s3Output("processed", paths.processed, `${PROCESSING}/output/processed`)],
    };
  })();

  const processing: ProcessingItem[] =
    manifest?.processing && userSourcedir
      ? manifest.processing.map((step) => {
          const job = spec(step.name, "processing", step.instanceType, frameworkImage("training"));
          return {
            step: step.name,
            job,
            app: scriptApp(job.image, step.script, step.arguments),
            inputs: [...userCodeInputs(userSourcedir), ...userInputs(step.inputs)],
            outputs: (step.outputs ?? []).map((output) =>
              s3Output(
                output.name,
                sourceUri(`${step.name}/${output.name}`),
                output.path ?? `${PROCESSING}/output/${output.name}`,
              ),
            ),
          };
        })
      : [builtInPreprocess];

  const channels = manifest?.train.channels
    ? Object.entries(manifest.train.channels).map(([channelName, source]) =>
        channel(channelName, sourceUri(source)),
      )
    : manifest?.processing
      ? [
          channel(
            "training",
            sourceUri(
              `${manifest.processing.at(-1)?.name}/${manifest.processing.at(-1)?.outputs?.[0]?.name}`,
            ),
          ),
        ]
      : [channel("train", paths.trainChannel), channel("validation", paths.validationChannel)];

  const evaluationOutput = (localPath: string) => [
    s3Output("evaluation", paths.evaluation, localPath),
  ];
  const evaluation: PipelineInput["evaluation"] = (() => {
    const userEvaluate = manifest?.evaluate;
    if (userEvaluate && userSourcedir) {
      const job = spec(
        "evaluate",
        "processing",
        userEvaluate.instanceType,
        frameworkImage("training"),
      );
      return {
        step: "evaluate",
        job,
        app: scriptApp(job.image, userEvaluate.script, userEvaluate.arguments),
        inputs: [
          ...userCodeInputs(userSourcedir),
          s3Input("model", modelUri, `${PROCESSING}/model`),
          ...userInputs(userEvaluate.inputs ?? [{ name: "test", source: "preprocess/test" }]),
        ],
        outputs: evaluationOutput(`${PROCESSING}/evaluation`),
        gate: userEvaluate.gate,
      };
    }
    const job = spec("evaluate", "processing", undefined);
    // The built-in evaluation scores a user's model through their inference script.
    const userModel =
      manifest && userSourcedir
        ? {
            inputs: [
              s3Input("usercode", userSourcedir, `${PROCESSING}/input/usercode`),
              // The test rows as batch transform sends them, for the user's input_fn.
              s3Input(
                "transform",
                s3(`${root}/processed/transform/`),
                `${PROCESSING}/input/transform`,
              ),
            ],
            args: [
              "--user-code",
              `${PROCESSING}/input/usercode/sourcedir.tar.gz`,
              "--user-inference",
              manifest.inference.script,
            ],
          }
        : { inputs: [], args: [] };
    return {
      step: "evaluate",
      job,
      app: {
        ImageUri: job.image,
        ContainerEntrypoint: [...BOOTSTRAP, "--job", "evaluate", ...userModel.args],
      },
      inputs: [
        ...modeldropInputs,
        s3Input("model", modelUri, `${PROCESSING}/input/model`),
        s3Input("test", paths.test, `${PROCESSING}/input/test`),
        ...userModel.inputs,
      ],
      outputs: evaluationOutput(`${PROCESSING}/output/evaluation`),
    };
  })();

  const builtInBatch: PipelineInput["batch"] =
    kind === "images"
      ? {
          input: s3(`${root}/processed/transform/`),
          contentType: "application/x-image",
          splitType: "None",
        }
      : { input: s3(`${root}/processed/transform/`), contentType: "text/csv", splitType: "Line" };
  const batch: PipelineInput["batch"] = manifest?.transform
    ? {
        input: sourceUri(manifest.transform.source),
        contentType: manifest.transform.contentType,
        splitType: manifest.transform.splitType,
      }
    : manifest?.processing
      ? undefined
      : builtInBatch;

  return {
    runId,
    bucket,
    dataset: { name, kind },
    source: args.source,
    paths: { ...paths, model: modelUri },
    code,
    ...(userCode && userSourcedir
      ? {
          userCode: {
            name: userCode.name,
            version: userCode.version,
            sha256: userCode.sha256,
            sourcedir: userSourcedir,
          },
        }
      : {}),
    processing,
    training: {
      channels,
      candidates,
      maxParallel,
      ...(selection ? { budgetSeconds } : {}),
    },
    ...(selection ? { selection } : {}),
    evaluation,
    inference:
      manifest && userSourcedir
        ? { program: manifest.inference.script, submitDirectory: userSourcedir }
        : { program: "inference.py", submitDirectory: code.sourcedir },
    jobs,
    model: {
      name: options.modelName ?? defaultModelName(args.source.key),
      sageMakerName: jobName(runId, "model"),
      manualApproval: options.manualApproval ?? false,
    },
    ...(batch ? { batch } : {}),
    options,
    steps: {},
  };
}
