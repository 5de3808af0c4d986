/**
 * The batch-predict state machine's execution input: copy the input version into the run,
 * run one transform job with a registered model version's SageMaker model, record, report,
 * notify. Shaped like the training pipeline's state where the two share task handlers (copy,
 * progress, end, report, notify), and derived only from the run, so a restart is idempotent.
 */
import { InvalidRequest } from "./errors.js";
import type { InstanceDefaults } from "./pipeline-input.js";
import { INSTANCE_DEFAULTS, imageUri } from "./pipeline-input.js";
import type { Run } from "./run-record.js";
import { fileName, jobName } from "./runs.js";

/** What batch transform is told each input is, by file extension. */
const CONTENT_TYPES: Record<string, { contentType: string; splitType: "Line" | "None" }> = {
  ".csv": { contentType: "text/csv", splitType: "Line" },
  ".txt": { contentType: "text/csv", splitType: "Line" },
  ".jsonl": { contentType: "application/jsonlines", splitType: "Line" },
  ".jpg": { contentType: "image/jpeg", splitType: "None" },
  ".jpeg": { contentType: "image/jpeg", splitType: "None" },
  ".png": { contentType: "image/png", splitType: "None" },
};

export function predictionContent(key: string): {
  contentType: string;
  splitType: "Line" | "None";
} {
  const name = fileName(key).toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".")) : "";
  const found = CONTENT_TYPES[ext];
  if (!found)
    throw new InvalidRequest(
      `input ${fileName(key)} is not a file batch predictions read: use ${Object.keys(CONTENT_TYPES).join(", ")}`,
      { field: "input" },
    );
  return found;
}

export interface PredictionModel {
  name: string;
  version: number;
  sageMakerModel: string;
  artifact: string;
  /** The code hash of the run that trained it (its inference code is inside the model). */
  codeSha256: string;
}

export function predictInput(args: {
  run: Run;
  model: PredictionModel;
  region: string;
  instanceDefaults?: InstanceDefaults;
}) {
  const { run, model } = args;
  const bucket = run.dataset.bucket;
  const root = `runs/${run.id}`;
  const s3 = (key: string) => `s3://${bucket}/${key}`;
  const name = fileName(run.dataset.key);
  const instanceType =
    run.options.instanceTypes?.transform ?? (args.instanceDefaults ?? INSTANCE_DEFAULTS).transform;
  const content = predictionContent(run.dataset.key);
  return {
    kind: "predict" as const,
    runId: run.id,
    bucket,
    dataset: { name, kind: "table" as const },
    source: { key: run.dataset.key, versionId: run.dataset.versionId },
    paths: {
      inputKey: `${root}/input/${name}`,
      input: s3(`${root}/input/${name}`),
      optionsKey: `${root}/options/options.json`,
      options: s3(`${root}/options/options.json`),
      predictions: s3(`${root}/predictions`),
      reportKey: `${root}/report/index.html`,
    },
    jobs: {
      transform: {
        name: jobName(run.id, "transform"),
        image: imageUri("transform", args.region, instanceType),
        instanceType,
        maxRuntimeSeconds: run.options.maxRuntimeSeconds?.transform ?? 3_600,
      },
    },
    model: {
      name: model.name,
      version: model.version,
      sageMakerName: model.sageMakerModel,
      manualApproval: false,
    },
    code: { sha256: model.codeSha256 },
    batch: { input: s3(`${root}/input/${name}`), ...content },
    options: run.options,
    steps: {},
  };
}
export type PredictInput = ReturnType<typeof predictInput>;
