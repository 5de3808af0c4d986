/**
 * modeldrop.json as a user writes it: the examples parse, and every refusal names the key at
 * fault in words the user can act on. frameworkImageUri names the framework's SageMaker image
 * the way the SageMaker Python SDK does (the SDK itself is compared in
 * test/integration/sagemaker-sdk.test.ts).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CodeManifest,
  type Framework,
  frameworkImageUri,
  frameworkVersions,
  ManifestInvalid,
  type ProcessingStep,
  parseManifest,
} from "../../core/code-manifest.js";
import containers from "../../ml/modeldrop_ml/containers.json" with { type: "json" };

const EXAMPLES = resolve(import.meta.dirname, "..", "..", "examples");

/** An example's modeldrop.json as the user wrote it (not yet parsed). */
function exampleJson(example: string): unknown {
  return JSON.parse(readFileSync(join(EXAMPLES, example, "modeldrop.json"), "utf8"));
}

/** examples/sklearn-chain: four processing steps, each reading the one before. */
const chain = (): CodeManifest => parseManifest(exampleJson("sklearn-chain"));

function stepsOf(manifest: CodeManifest): ProcessingStep[] {
  if (!manifest.processing) throw new Error("the manifest has no processing steps");
  return manifest.processing;
}

/** The manifest with processing step `index` changed. */
function withStep(
  manifest: CodeManifest,
  index: number,
  change: (step: ProcessingStep) => Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...manifest,
    processing: stepsOf(manifest).map((step, i) => (i === index ? change(step) : step)),
  };
}

/** The message of the ManifestInvalid that `act` throws. */
function refusal(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    if (error instanceof ManifestInvalid) return error.message;
    throw error;
  }
  throw new Error("it was accepted");
}

const refusalOf = (json: unknown) => refusal(() => parseManifest(json));

describe("the example manifests", () => {
  it.each([
    ["image-classifier", "pytorch", ["extract"]],
    ["sklearn-chain", "sklearn", ["read", "clean", "prepare", "normalize"]],
    ["xgboost-gated", "xgboost", ["split"]],
  ])("%s parses, with its framework and steps in order", (example, framework, steps) => {
    const manifest = parseManifest(exampleJson(example));

    expect(manifest.framework).toBe(framework);
    expect(manifest.processing?.map((step) => step.name)).toEqual(steps);
    expect(manifest.evaluate?.gate.direction).toBe("higher");
  });
});

describe("a modeldrop.json modeldrop refuses", () => {
  it("names an unknown top-level key", () => {
    expect(refusalOf({ ...chain(), entry_point: "train.py" })).toBe(
      "modeldrop.json: entry_point is not a known key",
    );
  });

  it("names an unknown key inside a step by its path", () => {
    const json = withStep(chain(), 0, (step) => ({ ...step, scrpt: "read.py" }));

    expect(refusalOf(json)).toBe("modeldrop.json: processing.0.scrpt is not a known key");
  });

  it("names an unknown key inside train", () => {
    const manifest = chain();

    expect(refusalOf({ ...manifest, train: { ...manifest.train, epochs: 3 } })).toBe(
      "modeldrop.json: train.epochs is not a known key",
    );
  });

  it("names a framework it does not know", () => {
    const message = refusalOf({ ...chain(), framework: "tensorflow" });

    expect(message).toMatch(/^modeldrop\.json: framework: /);
    expect(message).toContain('"sklearn"|"xgboost"|"pytorch"');
  });

  it("names a framework version it has no image for, listing the versions it offers", () => {
    expect(refusalOf({ ...chain(), frameworkVersion: "0.23-1" })).toBe(
      "modeldrop.json: frameworkVersion: modeldrop has no sklearn image 0.23-1; choose one of 1.0-1, 1.2-1",
    );
  });

  it("names a source that is a later step's output", () => {
    const json = withStep(chain(), 0, (step) => ({
      ...step,
      inputs: [{ name: "raw", source: "clean/clean" }],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.0.inputs.0.source: clean/clean names no earlier step (steps before it: none)",
    );
  });

  it("names a source whose step does not exist, listing the steps before it", () => {
    const json = withStep(chain(), 2, (step) => ({
      ...step,
      inputs: [{ name: "clean", source: "tidy/clean" }],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.2.inputs.0.source: tidy/clean names no earlier step (steps before it: read, clean)",
    );
  });

  it("names a source whose step has no such output, listing the outputs it has", () => {
    const json = withStep(chain(), 1, (step) => ({
      ...step,
      inputs: [{ name: "table", source: "read/rows" }],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.1.inputs.0.source: step read has no output rows (it has table)",
    );
  });

  it("names a training channel on an output that does not exist", () => {
    const manifest = chain();
    const train = { ...manifest.train, channels: { train: "normalize/scaled" } };

    expect(refusalOf({ ...manifest, train })).toBe(
      "modeldrop.json: train.channels.train: step normalize has no output scaled (it has train, normalizer)",
    );
  });

  it("names a transform source that does not exist", () => {
    const manifest = chain();
    const transform = { ...manifest.transform, source: "prepare/rows" };

    expect(refusalOf({ ...manifest, transform })).toBe(
      "modeldrop.json: transform.source: step prepare has no output rows (it has train, test, batch)",
    );
  });

  it("names a step name used twice", () => {
    const json = withStep(chain(), 1, (step) => ({ ...step, name: "read" }));

    expect(refusalOf(json)).toBe("modeldrop.json: processing.1.name: read repeats");
  });

  it("names a step that takes a built-in step's name", () => {
    const json = withStep(chain(), 1, (step) => ({ ...step, name: "train" }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.1.name: must not be one of the built-in steps (preprocess, train, evaluate, transform, model, report)",
    );
  });

  it.each([
    [
      "../clean.py",
      "must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
    ],
    [
      "lib/../../clean.py",
      "must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
    ],
    [
      "clean.sh",
      "must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
    ],
    [
      "/abs/clean.py",
      "must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
    ],
  ])("names the script path %s", (script, problem) => {
    const json = withStep(chain(), 1, (step) => ({ ...step, script }));

    expect(refusalOf(json)).toBe(`modeldrop.json: processing.1.script: ${problem}`);
  });

  it("names a training entry point that is not a .py file", () => {
    const manifest = chain();

    expect(refusalOf({ ...manifest, train: { ...manifest.train, entryPoint: "train" } })).toBe(
      "modeldrop.json: train.entryPoint: must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
    );
  });

  it("names an input called code, which is modeldrop's own", () => {
    const json = withStep(chain(), 1, (step) => ({
      ...step,
      inputs: [{ name: "code", source: "read/table" }],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.1.inputs.0.name: code is modeldrop's own input (entrypoint, code, model are taken)",
    );
  });

  it("names an input mounted under modeldrop's code folder", () => {
    const json = withStep(chain(), 1, (step) => ({
      ...step,
      inputs: [
        { name: "table", source: "read/table", path: "/opt/ml/processing/input/code/table" },
      ],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.1.inputs.0.path: /opt/ml/processing/input/code is where modeldrop puts the job's own files",
    );
  });

  it("names an evaluation input mounted where the trained model goes", () => {
    const manifest = chain();
    const evaluate = {
      ...manifest.evaluate,
      inputs: [{ name: "test", source: "prepare/test", path: "/opt/ml/processing/model" }],
    };

    expect(refusalOf({ ...manifest, evaluate })).toBe(
      "modeldrop.json: evaluate.inputs.0.path: /opt/ml/processing/model is where modeldrop puts the job's own files",
    );
  });

  it("names the second of two outputs written to one folder, and the first", () => {
    const json = withStep(chain(), 3, (step) => ({
      ...step,
      outputs: [
        { name: "train", path: "/opt/ml/processing/out" },
        { name: "normalizer", path: "/opt/ml/processing/out/more" },
      ],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.3.outputs.1.path: /opt/ml/processing/out/more overlaps processing.3.outputs.0's folder /opt/ml/processing/out",
    );
  });

  it("names an output folder inside an input's folder", () => {
    const json = withStep(chain(), 3, (step) => ({
      ...step,
      outputs: [
        { name: "train", path: "/opt/ml/processing/input/train/scaled" },
        { name: "normalizer" },
      ],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.3.outputs.0.path: /opt/ml/processing/input/train/scaled overlaps processing.3.inputs.0's folder /opt/ml/processing/input/train",
    );
  });

  it("asks for an evaluate script when the processing steps are the user's own", () => {
    const { evaluate: _evaluate, ...manifest } = chain();

    expect(refusalOf(manifest)).toBe(
      "modeldrop.json: evaluate: the built-in evaluation reads the built-in split's test rows, so with your own processing steps give your own evaluate script",
    );
  });

  it("asks for the evaluation's inputs when the processing steps are the user's own", () => {
    const manifest = chain();
    const { inputs: _inputs, ...evaluate } = manifest.evaluate ?? { inputs: [] };

    expect(refusalOf({ ...manifest, evaluate })).toBe(
      "modeldrop.json: evaluate.inputs: with your own processing steps, name the evaluation's inputs (the built-in test split is not made)",
    );
  });

  it("asks for the channels when the last processing step has no outputs to train on", () => {
    const manifest = withStep(chain(), 3, ({ outputs: _outputs, ...step }) => step);
    const { channels: _channels, ...train } = chain().train;

    expect(refusalOf({ ...manifest, train })).toBe(
      "modeldrop.json: train.channels: the last processing step (normalize) has no outputs to train on; name the channels",
    );
  });

  it("names an argument longer than the 256 characters SageMaker takes", () => {
    const json = withStep(chain(), 2, (step) => ({
      ...step,
      arguments: ["--columns", "c".repeat(257)],
    }));

    expect(refusalOf(json)).toBe(
      "modeldrop.json: processing.2.arguments.1: Too big: expected string to have <=256 characters",
    );
  });

  it("takes an argument of exactly 256 characters", () => {
    const json = withStep(chain(), 2, (step) => ({ ...step, arguments: ["c".repeat(256)] }));

    expect(stepsOf(parseManifest(json))[2]?.arguments).toEqual(["c".repeat(256)]);
  });

  it("refuses a file that is not an object", () => {
    expect(refusalOf([])).toBe(
      "modeldrop.json: (the file): Invalid input: expected object, received array",
    );
  });
});

describe("a manifest with no processing steps", () => {
  const builtIn = {
    framework: "xgboost",
    frameworkVersion: "1.7-1",
    train: { entryPoint: "train.py" },
    inference: { script: "inference.py" },
  };

  it("trains on the built-in preprocess's splits and is evaluated by the built-in evaluation", () => {
    const manifest = parseManifest(builtIn);

    expect(manifest.processing).toBeUndefined();
    expect(manifest.evaluate).toBeUndefined();
  });

  it("may name the built-in split's outputs as its channels", () => {
    const manifest = parseManifest({
      ...builtIn,
      train: { entryPoint: "train.py", channels: { train: "preprocess/train" } },
    });

    expect(manifest.train.channels).toEqual({ train: "preprocess/train" });
  });

  it("names a built-in split output that does not exist", () => {
    expect(
      refusalOf({
        ...builtIn,
        train: { entryPoint: "train.py", channels: { train: "preprocess/holdout" } },
      }),
    ).toBe(
      "modeldrop.json: train.channels.train: step preprocess has no output holdout (it has train, validation, test)",
    );
  });
});

describe("the framework's SageMaker image", () => {
  const image = (
    framework: Framework,
    version: string,
    scope: "training" | "inference",
    region: string,
    instanceType: string,
  ) =>
    frameworkImageUri({
      framework,
      version,
      scope,
      region,
      instanceType,
      gpuFamilies: containers.gpu_instance_families,
    });

  it("is offered in the versions the SDK table was written for", () => {
    expect(frameworkVersions("sklearn")).toEqual(["1.0-1", "1.2-1"]);
    expect(frameworkVersions("xgboost")).toEqual(["1.7-1", "3.0-5"]);
    expect(frameworkVersions("pytorch")).toEqual(["2.3.0", "2.4.0", "2.5.1", "2.6.0"]);
  });

  it("comes from the region's own registry account", () => {
    expect(image("sklearn", "1.2-1", "training", "us-east-1", "ml.m5.xlarge")).toBe(
      "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    );
    expect(image("sklearn", "1.2-1", "training", "eu-west-1", "ml.m5.xlarge")).toBe(
      "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    );
  });

  it("is under amazonaws.com.cn in the China regions", () => {
    expect(image("sklearn", "1.2-1", "inference", "cn-north-1", "ml.m5.xlarge")).toBe(
      "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3",
    );
    expect(image("pytorch", "2.5.1", "training", "cn-north-1", "ml.g5.xlarge")).toBe(
      "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.5.1-gpu-py311",
    );
  });

  it("is the CPU build on ml.m5.xlarge and the GPU build on ml.g5.xlarge", () => {
    expect(image("pytorch", "2.5.1", "training", "us-east-1", "ml.m5.xlarge")).toBe(
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",
    );
    expect(image("pytorch", "2.5.1", "training", "us-east-1", "ml.g5.xlarge")).toBe(
      "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311",
    );
  });

  it("is the inference repository for the inference scope", () => {
    expect(image("pytorch", "2.5.1", "inference", "eu-west-1", "ml.g5.xlarge")).toBe(
      "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.5.1-gpu-py311",
    );
  });

  it("refuses scikit-learn on a GPU instance, which has no GPU build", () => {
    expect(refusal(() => image("sklearn", "1.2-1", "training", "us-east-1", "ml.g5.xlarge"))).toBe(
      "the sklearn 1.2-1 image has no gpu build for ml.g5.xlarge",
    );
  });

  it("refuses a region the image is not published in", () => {
    expect(
      refusal(() => image("sklearn", "1.2-1", "training", "mx-central-1", "ml.m5.xlarge")),
    ).toBe("the sklearn 1.2-1 image is not published in mx-central-1");
  });

  it("refuses a version modeldrop has no image for", () => {
    expect(refusal(() => image("xgboost", "0.90-2", "training", "us-east-1", "ml.m5.xlarge"))).toBe(
      "modeldrop has no xgboost 0.90-2 image",
    );
  });
});
