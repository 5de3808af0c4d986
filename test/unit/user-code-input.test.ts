/**
 * The training pipeline's execution input for a run with the user's own scripts (a registered
 * code version and its modeldrop.json): each SageMaker job as the user's manifest describes it,
 * in the framework's image, with modeldrop's bootstrap and the user's code.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type CodeManifest, parseManifest } from "../../core/code-manifest.js";
import type { RunOptions } from "../../core/options.js";
import { type PipelineInput, pipelineInput } from "../../core/pipeline-input.js";
import { parseTrainingState } from "../../core/pipeline-state.js";
import type { DatasetKind } from "../../core/run-record.js";

const EXAMPLES = resolve(import.meta.dirname, "..", "..", "examples");
const RUN = "churn-data-3f2a9c1b0d4e";
const BUCKET = "modeldrop-data";
const MODELDROP_SHA = "c0ffee".padEnd(64, "0");
const USER_SHA = "5ca1ab1e".padEnd(64, "7");
const RUNS = `s3://${BUCKET}/runs/${RUN}`;
const BOOTSTRAP = `s3://${BUCKET}/code/${MODELDROP_SHA}/bootstrap.py`;
const USER_SOURCEDIR = `s3://${BUCKET}/code/${USER_SHA}/sourcedir.tar.gz`;
const ENTRYPOINT = [
  "python3",
  "/opt/ml/processing/input/entrypoint/bootstrap.py",
  "--code",
  "/opt/ml/processing/input/code/sourcedir.tar.gz",
];

const example = (name: string): CodeManifest =>
  parseManifest(JSON.parse(readFileSync(join(EXAMPLES, name, "modeldrop.json"), "utf8")));

function inputFor(
  manifest: CodeManifest,
  args: { kind?: DatasetKind; options?: RunOptions; region?: string } = {},
): PipelineInput {
  const kind = args.kind ?? "table";
  return pipelineInput({
    runId: RUN,
    bucket: BUCKET,
    region: args.region ?? "eu-west-1",
    source: {
      key: kind === "images" ? "inbox/digits.zip" : "inbox/churn data.csv",
      versionId: "v1",
    },
    kind,
    options: args.options ?? { code: { name: "churn-code" } },
    codeSha256: MODELDROP_SHA,
    userCode: { name: "churn-code", version: 3, sha256: USER_SHA, manifest },
  });
}

/** A ProcessingInput as SageMaker takes it, from S3 into the job's folder. */
const s3Input = (name: string, uri: string, localPath: string) => ({
  InputName: name,
  S3Input: {
    S3Uri: uri,
    LocalPath: localPath,
    S3DataType: "S3Prefix",
    S3InputMode: "File",
    S3DataDistributionType: "FullyReplicated",
  },
});

const s3Output = (name: string, uri: string, localPath: string) => ({
  OutputName: name,
  S3Output: { S3Uri: uri, LocalPath: localPath, S3UploadMode: "EndOfJob" },
});

const channel = (name: string, uri: string) => ({
  ChannelName: name,
  DataSource: {
    S3DataSource: { S3DataType: "S3Prefix", S3Uri: uri, S3DataDistributionType: "FullyReplicated" },
  },
});

/** The inputs every job running the user's script starts with: the bootstrap and their code. */
const codeInputs = [
  s3Input("entrypoint", BOOTSTRAP, "/opt/ml/processing/input/entrypoint"),
  s3Input("code", USER_SOURCEDIR, "/opt/ml/processing/input/code"),
];

const SKLEARN_TRAINING =
  "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3";

function stepNamed(input: PipelineInput, step: string) {
  const item = input.processing.find((candidate) => candidate.step === step);
  if (!item) throw new Error(`no processing step ${step}`);
  return item;
}

describe("a run of examples/sklearn-chain", () => {
  const input = inputFor(example("sklearn-chain"));

  it("runs the processing steps in the manifest's order, each job named after the run", () => {
    expect(input.processing.map((item) => [item.step, item.job.name])).toEqual([
      ["read", `md-${RUN}-read`],
      ["clean", `md-${RUN}-clean`],
      ["prepare", `md-${RUN}-prepare`],
      ["normalize", `md-${RUN}-normalize`],
    ]);
  });

  it("runs every step in the framework's training image, which the pipeline's tasks can read", () => {
    for (const item of input.processing) {
      expect(item.app.ImageUri).toBe(SKLEARN_TRAINING);
      expect(item.job.image).toBe(SKLEARN_TRAINING);
    }
    expect(() => parseTrainingState(input)).not.toThrow();
  });

  it("runs each step's script through modeldrop's bootstrap, with its arguments only when given", () => {
    expect(stepNamed(input, "read").app).toEqual({
      ImageUri: SKLEARN_TRAINING,
      ContainerEntrypoint: [...ENTRYPOINT, "--script", "read.py"],
    });
    expect(stepNamed(input, "prepare").app).toEqual({
      ImageUri: SKLEARN_TRAINING,
      ContainerEntrypoint: [...ENTRYPOINT, "--script", "prepare.py"],
      ContainerArguments: ["--test-fraction", "0.2", "--seed", "7"],
    });
  });

  it("gives the first step the dropped dataset after the bootstrap and the user's code", () => {
    expect(stepNamed(input, "read").inputs).toEqual([
      ...codeInputs,
      s3Input("raw", input.paths.input, "/opt/ml/processing/input/raw"),
    ]);
    expect(input.paths.input).toBe(`${RUNS}/input/churn data.csv`);
  });

  it("gives a later step the earlier step's output from the run's steps folder", () => {
    expect(stepNamed(input, "clean").inputs).toEqual([
      ...codeInputs,
      s3Input("table", `${RUNS}/steps/read/table/`, "/opt/ml/processing/input/table"),
    ]);
  });

  it("uploads each output from its folder under /opt/ml/processing/output", () => {
    expect(stepNamed(input, "prepare").outputs).toEqual([
      s3Output("train", `${RUNS}/steps/prepare/train/`, "/opt/ml/processing/output/train"),
      s3Output("test", `${RUNS}/steps/prepare/test/`, "/opt/ml/processing/output/test"),
      s3Output("batch", `${RUNS}/steps/prepare/batch/`, "/opt/ml/processing/output/batch"),
    ]);
  });

  it("trains on the channels train.channels names", () => {
    expect(input.training.channels).toEqual([
      channel("train", `${RUNS}/steps/normalize/train/`),
      channel("normalizer", `${RUNS}/steps/normalize/normalizer/`),
    ]);
  });

  it("passes hyperparameters JSON-encoded, as the SageMaker Python SDK's estimators do", () => {
    expect(input.training.candidates[0]?.hyperParameters).toEqual({
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: `"${USER_SOURCEDIR}"`,
      c: "1",
      "max-iter": "1000",
    });
  });

  it("evaluates with the user's script, the trained model and the inputs evaluate names", () => {
    expect(input.evaluation).toEqual({
      step: "evaluate",
      job: {
        name: `md-${RUN}-evaluate`,
        image: SKLEARN_TRAINING,
        instanceType: "ml.m5.xlarge",
        maxRuntimeSeconds: 3_600,
      },
      app: {
        ImageUri: SKLEARN_TRAINING,
        ContainerEntrypoint: [...ENTRYPOINT, "--script", "evaluate.py"],
      },
      inputs: [
        ...codeInputs,
        s3Input(
          "model",
          `${RUNS}/jobs/md-${RUN}-train/output/model.tar.gz`,
          "/opt/ml/processing/model",
        ),
        s3Input("test", `${RUNS}/steps/prepare/test/`, "/opt/ml/processing/input/test"),
      ],
      outputs: [s3Output("evaluation", `${RUNS}/evaluation`, "/opt/ml/processing/evaluation")],
      gate: {
        metric: "binary_classification_metrics.roc_auc.value",
        threshold: 0.95,
        direction: "higher",
      },
    });
  });

  it("serves the model with the user's inference script from their code", () => {
    expect(input.inference).toEqual({ program: "inference.py", submitDirectory: USER_SOURCEDIR });
  });

  it("predicts on the rows manifest.transform names", () => {
    expect(input.batch).toEqual({
      input: `${RUNS}/steps/prepare/batch/`,
      contentType: "text/csv",
      splitType: "Line",
    });
  });

  it("records which code version the run uses", () => {
    expect(input.userCode).toEqual({
      name: "churn-code",
      version: 3,
      sha256: USER_SHA,
      sourcedir: USER_SOURCEDIR,
    });
  });
});

describe("a run of examples/xgboost-gated", () => {
  const input = inputFor(example("xgboost-gated"), { region: "us-east-1" });

  it("uploads outputs from the folders the manifest gives", () => {
    expect(stepNamed(input, "split").outputs).toEqual(
      ["train", "validation", "test", "batch"].map((name) =>
        s3Output(name, `${RUNS}/steps/split/${name}/`, `/opt/ml/processing/output/${name}`),
      ),
    );
  });

  it("trains in the XGBoost image with its hyperparameters as the SDK encodes them", () => {
    expect(input.training.candidates[0]?.job.image).toBe(
      "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    );
    expect(input.training.candidates[0]?.hyperParameters).toEqual({
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: `"${USER_SOURCEDIR}"`,
      "num-round": "100",
      "max-depth": "4",
      eta: "0.2",
    });
    expect(input.training.channels).toEqual([
      channel("train", `${RUNS}/steps/split/train/`),
      channel("validation", `${RUNS}/steps/split/validation/`),
    ]);
  });
});

describe("a run of examples/image-classifier", () => {
  const input = inputFor(example("image-classifier"), { kind: "images" });

  it("trains on a GPU instance in the framework's GPU training image", () => {
    expect(input.training.candidates[0]?.job).toEqual({
      name: `md-${RUN}-train`,
      image: "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311",
      instanceType: "ml.g5.xlarge",
      maxRuntimeSeconds: 86_400,
    });
  });

  it("predicts in the framework's inference image, on the images the manifest names", () => {
    expect(input.jobs.transform.image).toBe(
      "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.5.1-cpu-py311",
    );
    expect(input.batch).toEqual({
      input: `${RUNS}/steps/extract/batch/`,
      contentType: "application/x-image",
      splitType: "None",
    });
  });

  it("encodes number hyperparameters as JSON numbers", () => {
    expect(input.training.candidates[0]?.hyperParameters).toMatchObject({
      epochs: "5",
      "batch-size": "16",
      "learning-rate": "0.001",
      "image-size": "32",
    });
  });
});

describe("a user's manifest, changed", () => {
  const chain = example("sklearn-chain");
  const steps = chain.processing ?? [];

  it("mounts an input at the path the manifest gives", () => {
    const manifest: CodeManifest = {
      ...chain,
      processing: steps.map((step) =>
        step.name === "clean"
          ? {
              ...step,
              inputs: [{ name: "table", source: "read/table", path: "/opt/ml/processing/rows" }],
            }
          : step,
      ),
    };

    expect(stepNamed(inputFor(manifest), "clean").inputs.at(-1)).toEqual(
      s3Input("table", `${RUNS}/steps/read/table/`, "/opt/ml/processing/rows"),
    );
  });

  it("runs a step on the instance type it names, in the image built for that instance", () => {
    const manifest = parseManifest({
      ...example("image-classifier"),
      processing: (example("image-classifier").processing ?? []).map((step) => ({
        ...step,
        instanceType: "ml.g5.2xlarge",
      })),
    });

    expect(stepNamed(inputFor(manifest, { kind: "images" }), "extract").job).toMatchObject({
      instanceType: "ml.g5.2xlarge",
      image: "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311",
    });
  });

  it("encodes string and boolean hyperparameters as JSON", () => {
    const manifest: CodeManifest = {
      ...chain,
      train: { ...chain.train, hyperparameters: { solver: "lbfgs", "fit-intercept": true } },
    };

    expect(inputFor(manifest).training.candidates[0]?.hyperParameters).toMatchObject({
      solver: '"lbfgs"',
      "fit-intercept": "true",
    });
  });

  it("trains on the last step's first output as `training` when no channels are named", () => {
    const { channels: _channels, ...train } = chain.train;

    expect(inputFor({ ...chain, train }).training.channels).toEqual([
      channel("training", `${RUNS}/steps/normalize/train/`),
    ]);
  });

  it("makes no batch predictions when its own steps name nothing to predict on", () => {
    const { transform: _transform, ...manifest } = chain;

    expect(inputFor(manifest).batch).toBeUndefined();
  });
});

describe("a manifest with no processing steps and no evaluate", () => {
  const manifest = parseManifest({
    framework: "xgboost",
    frameworkVersion: "1.7-1",
    train: { entryPoint: "train.py", hyperparameters: { "num-round": 50 } },
    inference: { script: "serve.py" },
  });
  const input = inputFor(manifest);

  it("runs the built-in preprocess in modeldrop's image with modeldrop's code", () => {
    expect(input.processing).toHaveLength(1);
    const [preprocess] = input.processing;
    expect(preprocess?.step).toBe("preprocess");
    expect(preprocess?.job.image).toContain("/pytorch-training:");
    expect(preprocess?.app.ContainerEntrypoint).toEqual([...ENTRYPOINT, "--job", "preprocess"]);
    expect(preprocess?.inputs.slice(0, 2)).toEqual([
      s3Input("entrypoint", BOOTSTRAP, "/opt/ml/processing/input/entrypoint"),
      s3Input(
        "code",
        `s3://${BUCKET}/code/${MODELDROP_SHA}/sourcedir.tar.gz`,
        "/opt/ml/processing/input/code",
      ),
    ]);
  });

  it("trains the user's script in the framework's image on the built-in train and validation splits", () => {
    expect(input.training.candidates[0]?.job.image).toBe(
      "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    );
    expect(input.training.channels).toEqual([
      channel("train", `${RUNS}/processed/train/`),
      channel("validation", `${RUNS}/processed/validation/`),
    ]);
    expect(input.training.candidates[0]?.hyperParameters).toEqual({
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: `"${USER_SOURCEDIR}"`,
      "num-round": "50",
    });
  });

  it("scores the user's model with the built-in evaluation through their inference script", () => {
    expect(input.evaluation.app.ContainerEntrypoint).toEqual([
      ...ENTRYPOINT,
      "--job",
      "evaluate",
      "--user-code",
      "/opt/ml/processing/input/usercode/sourcedir.tar.gz",
      "--user-inference",
      "serve.py",
    ]);
    expect(input.evaluation.inputs).toEqual(
      expect.arrayContaining([
        s3Input("usercode", USER_SOURCEDIR, "/opt/ml/processing/input/usercode"),
        s3Input("transform", `${RUNS}/processed/transform/`, "/opt/ml/processing/input/transform"),
        s3Input("test", `${RUNS}/processed/test/`, "/opt/ml/processing/input/test"),
      ]),
    );
    expect(input.evaluation.gate).toBeUndefined();
  });

  it("predicts on the built-in split's held-out rows, served by the user's script", () => {
    expect(input.batch).toEqual({
      input: `${RUNS}/processed/transform/`,
      contentType: "text/csv",
      splitType: "Line",
    });
    expect(input.inference).toEqual({ program: "serve.py", submitDirectory: USER_SOURCEDIR });
  });
});

describe("the execution input with the user's code", () => {
  it("is the same for the same run, so a second start is answered idempotently", () => {
    expect(inputFor(example("sklearn-chain"))).toEqual(inputFor(example("sklearn-chain")));
  });

  it("stays under 32 KiB with ten processing steps", () => {
    const names = Array.from({ length: 10 }, (_, i) => `stage-${i + 1}`);
    const manifest = parseManifest({
      framework: "pytorch",
      frameworkVersion: "2.6.0",
      processing: names.map((name, i) => ({
        name,
        script: `steps/${name}.py`,
        arguments: ["--seed", "7", "--fraction", "0.25", "--columns", "age,income,tenure,plan"],
        inputs: [{ name: "rows", source: i === 0 ? "dataset" : `${names[i - 1]}/rows` }],
        outputs: [{ name: "rows" }, { name: "report" }],
      })),
      train: {
        entryPoint: "train.py",
        hyperparameters: { epochs: 10, "learning-rate": 0.001, optimizer: "adamw" },
        channels: { train: "stage-10/rows" },
      },
      evaluate: {
        script: "evaluate.py",
        inputs: [{ name: "rows", source: "stage-10/rows" }],
        gate: { metric: "regression_metrics.r2.value", threshold: 0.5 },
      },
      inference: { script: "inference.py" },
      transform: { source: "stage-10/rows" },
    });

    const input = inputFor(manifest);

    expect(input.processing).toHaveLength(10);
    expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThan(32 * 1024);
  });
});
