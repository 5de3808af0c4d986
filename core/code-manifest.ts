/**
 * modeldrop.json: how a user's own SageMaker scripts make a run. The manifest names the
 * framework image, the processing steps in order (each a script with its arguments, inputs and
 * outputs), the training entry point and hyperparameters, the evaluation script and its gate,
 * and the inference script. Every key is checked; an unknown one is refused, not ignored.
 *
 * A part left out is modeldrop's built-in job where its data contract fits (README, "Your own
 * scripts"): no `processing` runs the built-in preprocess, whose `train`, `validation` and
 * `test` outputs the user's train.py reads; no `evaluate` runs the built-in evaluation on the
 * user's model through their inference script.
 */
import { z } from "zod";
import images from "./framework-images.json" with { type: "json" };
import { STEP_NAME } from "./runs.js";

export const FRAMEWORKS = ["sklearn", "xgboost", "pytorch"] as const;
export type Framework = (typeof FRAMEWORKS)[number];

type ImageTable = Record<
  string,
  Record<
    string,
    Record<
      "training" | "inference",
      { repository: string; tags: Record<string, string>; registries: Record<string, string> }
    >
  >
>;
const FRAMEWORK_IMAGES: ImageTable = images.frameworks;

/** The framework versions modeldrop has a SageMaker image for, by framework. */
export function frameworkVersions(framework: Framework): string[] {
  return Object.keys(FRAMEWORK_IMAGES[framework] ?? {});
}

/** A file inside the code archive: relative, no `..`, no backslashes. */
const ScriptPath = z
  .string()
  .min(1)
  .max(256)
  .regex(
    /^([A-Za-z0-9_][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$/,
    "must be a relative path to a .py file inside the code folder (no ., .. or empty parts)",
  );

/** A step's name: its job is `md-<run>-<name>`, so it is short and cannot be a built-in's. */
const RESERVED_STEPS = ["preprocess", "train", "evaluate", "transform", "model", "report"];
const StepName = z
  .string()
  .regex(STEP_NAME, "must be 1-16 lowercase letters, digits and hyphens, starting with a letter")
  .refine((name) => !RESERVED_STEPS.includes(name), {
    message: `must not be one of the built-in steps (${RESERVED_STEPS.join(", ")})`,
  });

/** A ProcessingInput/Output name, or a training channel's. */
const IoName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must be 1-64 letters, digits, _ and -");

/** Where data comes from: the dropped dataset, or `<step>/<output>` of an earlier step. */
const Source = z
  .string()
  .regex(
    /^(dataset|[a-z][a-z0-9-]{0,15}\/[A-Za-z0-9][A-Za-z0-9_-]{0,63})$/,
    'must be "dataset" or "<step>/<output>"',
  );

/** A folder under /opt/ml/processing inside the job, written plainly (no ., .. or //). */
const ProcessingPath = z
  .string()
  .max(256)
  .regex(
    /^\/opt\/ml\/processing(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/,
    "must be a folder under /opt/ml/processing/, written without ., .. or //",
  );

const instanceType = z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, "must look like ml.m5.xlarge");

/** SageMaker's ContainerArguments: at most 256 characters each; modeldrop adds its own few. */
const Arguments = z.array(z.string().max(256)).max(64);

const ProcessingStep = z.strictObject({
  name: StepName,
  script: ScriptPath,
  arguments: Arguments.optional(),
  inputs: z
    .array(
      z.strictObject({
        name: IoName,
        source: Source,
        /** Default /opt/ml/processing/input/<name>. */
        path: ProcessingPath.optional(),
      }),
    )
    .max(8)
    .optional(),
  outputs: z
    .array(
      z.strictObject({
        name: IoName,
        /** Default /opt/ml/processing/output/<name>. */
        path: ProcessingPath.optional(),
      }),
    )
    .max(10)
    .optional(),
  instanceType: instanceType.optional(),
});
export type ProcessingStep = z.infer<typeof ProcessingStep>;

/** SageMaker caps a value at 2,500 characters, which JSON-encoding a string adds 2 to. */
const HyperparameterValue = z.union([z.string().max(2_498), z.number(), z.boolean()]);

const Train = z.strictObject({
  entryPoint: ScriptPath,
  hyperparameters: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,255}$/), HyperparameterValue)
    .refine((values) => Object.keys(values).length <= 98, {
      message:
        "at most 98 (SageMaker takes 100, and modeldrop adds sagemaker_program and sagemaker_submit_directory)",
    })
    .optional(),
  /**
   * Channel name → source. Default: the built-in preprocess's `train` and `validation`, or the
   * first output of the last processing step as `training` (the SDK's default channel name).
   */
  channels: z
    .record(IoName, Source)
    .refine((channels) => Object.keys(channels).length > 0, {
      message: "must name at least one channel (or leave channels out for the default)",
    })
    .optional(),
  instanceType: instanceType.optional(),
});

/** The quality gate on the user's evaluation.json: a dotted path to a number. */
const Gate = z.strictObject({
  metric: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dotted path into evaluation.json"),
  threshold: z.number(),
  direction: z.enum(["higher", "lower"]).default("higher"),
});
export type CodeGate = z.infer<typeof Gate>;

/**
 * The user's evaluation: it finds the trained model at /opt/ml/processing/model/model.tar.gz
 * and writes /opt/ml/processing/evaluation/evaluation.json, which the gate reads.
 */
const Evaluate = z.strictObject({
  script: ScriptPath,
  arguments: Arguments.optional(),
  /** Default: `test` of the built-in split. */
  inputs: ProcessingStep.shape.inputs,
  gate: Gate,
  instanceType: instanceType.optional(),
});

export const CodeManifest = z.strictObject({
  framework: z.enum(FRAMEWORKS),
  frameworkVersion: z.string().min(1).max(32),
  processing: z.array(ProcessingStep).min(1).max(10).optional(),
  train: Train,
  evaluate: Evaluate.optional(),
  /** The script with model_fn / input_fn / predict_fn / output_fn for batch transform. */
  inference: z.strictObject({ script: ScriptPath }),
  /** The batch predictions the training run makes. Default: the built-in split's held-out rows. */
  transform: z
    .strictObject({
      source: Source,
      contentType: z.string().min(1).max(256).default("text/csv"),
      splitType: z.enum(["Line", "None"]).default("Line"),
      instanceType: instanceType.optional(),
    })
    .optional(),
});
export type CodeManifest = z.infer<typeof CodeManifest>;

export class ManifestInvalid extends Error {
  override readonly name = "ManifestInvalid";
}

/** The first problem of a parsed manifest as one sentence naming the key. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys")
    return `modeldrop.json: ${[path, issue.keys[0]].filter(Boolean).join(".")} is not a known key`;
  return `modeldrop.json: ${path || "(the file)"}: ${issue.message}`;
}

/** The outputs each step makes, for resolving sources, in the order the steps run. */
function outputsByStep(manifest: CodeManifest): Map<string, string[]> {
  const outputs = new Map<string, string[]>();
  if (!manifest.processing) outputs.set("preprocess", ["train", "validation", "test"]);
  for (const step of manifest.processing ?? [])
    outputs.set(
      step.name,
      (step.outputs ?? []).map((output) => output.name),
    );
  return outputs;
}

function checkSource(source: string, known: Map<string, string[]>, where: string): void {
  if (source === "dataset") return;
  const [step = "", output = ""] = source.split("/");
  const outputs = known.get(step);
  if (!outputs)
    throw new ManifestInvalid(
      `modeldrop.json: ${where}: ${source} names no earlier step (steps before it: ${[...known.keys()].join(", ") || "none"})`,
    );
  if (!outputs.includes(output))
    throw new ManifestInvalid(
      `modeldrop.json: ${where}: step ${step} has no output ${output} (it has ${outputs.join(", ") || "none"})`,
    );
}

/** Where modeldrop puts a job's own inputs: a user's input or output may not take these. */
const TAKEN = {
  names: ["entrypoint", "code", "model"],
  paths: [
    "/opt/ml/processing/input/entrypoint",
    "/opt/ml/processing/input/code",
    "/opt/ml/processing/model",
    "/opt/ml/processing/evaluation",
  ],
};

/** One step's inputs and outputs: names and folders unique, none on modeldrop's own. */
function checkFolders(
  where: string,
  inputs: { name: string; path?: string | undefined }[],
  outputs: { name: string; path?: string | undefined }[],
): void {
  const folders = new Map<string, string>();
  const names = new Set<string>();
  const entries = [
    ...inputs.map((io, i) => ({
      io,
      at: `${where}.inputs.${i}`,
      path: io.path ?? `/opt/ml/processing/input/${io.name}`,
    })),
    ...outputs.map((io, i) => ({
      io,
      at: `${where}.outputs.${i}`,
      path: io.path ?? `/opt/ml/processing/output/${io.name}`,
    })),
  ];
  for (const { io, at, path } of entries) {
    if (at.includes(".inputs.") && names.has(`in:${io.name}`))
      throw new ManifestInvalid(`modeldrop.json: ${at}.name: ${io.name} repeats`);
    if (at.includes(".inputs.")) names.add(`in:${io.name}`);
    if (TAKEN.names.includes(io.name) && at.includes(".inputs."))
      throw new ManifestInvalid(
        `modeldrop.json: ${at}.name: ${io.name} is modeldrop's own input (${TAKEN.names.join(", ")} are taken)`,
      );
    const folder = path.replace(/\/+$/, "");
    const clash = TAKEN.paths.find(
      (taken) =>
        folder === taken || folder.startsWith(`${taken}/`) || taken.startsWith(`${folder}/`),
    );
    if (clash)
      throw new ManifestInvalid(
        `modeldrop.json: ${at}.path: ${clash} is where modeldrop puts the job's own files`,
      );
    const other = [...folders.entries()].find(
      ([used]) => used === folder || used.startsWith(`${folder}/`) || folder.startsWith(`${used}/`),
    );
    if (other)
      throw new ManifestInvalid(
        `modeldrop.json: ${at}.path: ${folder} overlaps ${other[1]}'s folder ${other[0]}`,
      );
    folders.set(folder, at);
  }
}

/** What the steps refer to must exist, earlier, and names must not repeat. */
function checkReferences(manifest: CodeManifest): void {
  const known = new Map<string, string[]>();
  if (!manifest.processing) known.set("preprocess", ["train", "validation", "test"]);
  for (const [index, step] of (manifest.processing ?? []).entries()) {
    if (known.has(step.name))
      throw new ManifestInvalid(`modeldrop.json: processing.${index}.name: ${step.name} repeats`);
    for (const [i, input] of (step.inputs ?? []).entries())
      checkSource(input.source, known, `processing.${index}.inputs.${i}.source`);
    checkFolders(`processing.${index}`, step.inputs ?? [], step.outputs ?? []);
    const names = (step.outputs ?? []).map((output) => output.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated)
      throw new ManifestInvalid(`modeldrop.json: processing.${index}.outputs: ${repeated} repeats`);
    known.set(step.name, names);
  }
  const all = outputsByStep(manifest);
  for (const [channel, source] of Object.entries(manifest.train.channels ?? {}))
    checkSource(source, all, `train.channels.${channel}`);
  if (manifest.processing && !manifest.train.channels) {
    const last = manifest.processing.at(-1);
    if (!last?.outputs?.length)
      throw new ManifestInvalid(
        `modeldrop.json: train.channels: the last processing step (${last?.name}) has no outputs to train on; name the channels`,
      );
  }
  for (const [i, input] of (manifest.evaluate?.inputs ?? []).entries())
    checkSource(input.source, all, `evaluate.inputs.${i}.source`);
  if (manifest.evaluate) checkFolders("evaluate", manifest.evaluate.inputs ?? [], []);
  if (manifest.evaluate && !manifest.evaluate.inputs && manifest.processing)
    throw new ManifestInvalid(
      "modeldrop.json: evaluate.inputs: with your own processing steps, name the evaluation's inputs (the built-in test split is not made)",
    );
  if (!manifest.evaluate && manifest.processing)
    throw new ManifestInvalid(
      "modeldrop.json: evaluate: the built-in evaluation reads the built-in split's test rows, so with your own processing steps give your own evaluate script",
    );
  if (manifest.transform) checkSource(manifest.transform.source, all, "transform.source");
}

/** Parses an untrusted modeldrop.json, throwing ManifestInvalid that names the key at fault. */
export function parseManifest(json: unknown): CodeManifest {
  const parsed = CodeManifest.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ManifestInvalid(first ? describeIssue(first) : "modeldrop.json is invalid");
  }
  const manifest = parsed.data;
  const versions = frameworkVersions(manifest.framework);
  if (!versions.includes(manifest.frameworkVersion))
    throw new ManifestInvalid(
      `modeldrop.json: frameworkVersion: modeldrop has no ${manifest.framework} image ${manifest.frameworkVersion}; choose one of ${versions.join(", ")}`,
    );
  checkReferences(manifest);
  return manifest;
}

/** The script files the manifest names, each of which the archive must hold. */
export function manifestScripts(manifest: CodeManifest): string[] {
  return [
    ...(manifest.processing ?? []).map((step) => step.script),
    manifest.train.entryPoint,
    ...(manifest.evaluate ? [manifest.evaluate.script] : []),
    manifest.inference.script,
  ];
}

function isGpuFamily(instanceType: string, gpuFamilies: readonly string[]): boolean {
  return gpuFamilies.includes(instanceType.split(".")[1] ?? "");
}

/**
 * The framework's SageMaker image for a job, as the SageMaker Python SDK's
 * `image_uris.retrieve` names it (core/framework-images.json is written from the SDK's table).
 */
export function frameworkImageUri(args: {
  framework: Framework;
  version: string;
  scope: "training" | "inference";
  region: string;
  instanceType: string;
  gpuFamilies: readonly string[];
}): string {
  const image = FRAMEWORK_IMAGES[args.framework]?.[args.version]?.[args.scope];
  if (!image) throw new ManifestInvalid(`modeldrop has no ${args.framework} ${args.version} image`);
  const account = image.registries[args.region];
  if (!account)
    throw new ManifestInvalid(
      `the ${args.framework} ${args.version} image is not published in ${args.region}`,
    );
  const processor = isGpuFamily(args.instanceType, args.gpuFamilies) ? "gpu" : "cpu";
  const tag = image.tags[processor];
  if (!tag)
    throw new ManifestInvalid(
      `the ${args.framework} ${args.version} image has no ${processor} build for ${args.instanceType}`,
    );
  const domain = args.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `${account}.dkr.ecr.${args.region}.${domain}/${image.repository}:${tag}`;
}
