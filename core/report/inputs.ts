/**
 * What the report is drawn from: the schemas of the job outputs (profile.json, history.json) and
 * `reportInputs`, which parses the raw bytes so that an unreadable file becomes a sentence on the
 * page, never a failed report.
 */
import { z } from "zod";
import { type Evaluation, parseEvaluation } from "../evaluation.js";
import type { Run } from "../run-record.js";
import { tarGzMember } from "../tar.js";

const Inference = z.object({ what: z.string(), value: z.unknown(), why: z.string() }).loose();

const ColumnProfile = z
  .object({
    name: z.string(),
    type: z.string(),
    role: z.string(),
    missing_pct: z.number(),
    distinct: z.number().optional(),
    min: z.unknown().optional(),
    max: z.unknown().optional(),
    mean: z.number().nullish(),
    std: z.number().nullish(),
    top_values: z.record(z.string(), z.number()).optional(),
  })
  .loose();
export type ColumnProfile = z.infer<typeof ColumnProfile>;

/** profile.json as preprocess writes it (tables and image zips); every field optional. */
export const Profile = z
  .object({
    dataset: z.string().optional(),
    format: z.string().optional(),
    encoding: z.string().nullish(),
    delimiter: z.string().nullish(),
    rows: z.number().optional(),
    rows_used: z.number().optional(),
    malformed_rows_skipped: z.number().optional(),
    renamed_columns: z.record(z.string(), z.string()).optional(),
    images_skipped: z.array(z.object({ file: z.string(), reason: z.string() })).optional(),
    files_ignored: z.array(z.string()).optional(),
    columns: z.array(ColumnProfile).optional(),
    target: z
      .object({
        name: z.string(),
        task: z.string(),
        classes: z.array(z.string()).nullish(),
        balance: z
          .object({
            counts: z.record(z.string(), z.number()).optional(),
            fractions: z.record(z.string(), z.number()).optional(),
            min: z.number().nullish(),
            max: z.number().nullish(),
            mean: z.number().nullish(),
            std: z.number().nullish(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    inferences: z.array(Inference).optional(),
    splits: z.record(z.string(), z.number()).optional(),
    split_settings: z
      .object({ validation: z.number(), test: z.number(), seed: z.number() })
      .loose()
      .optional(),
  })
  .loose();
export type Profile = z.infer<typeof Profile>;

/** history.json from the model artifact: boosting rounds, epochs, or a one-pass score. */
const TrainingHistory = z
  .object({
    algorithm: z.string().optional(),
    metric: z.string().optional(),
    rounds: z
      .array(z.object({ round: z.number(), train: z.number(), validation: z.number() }))
      .optional(),
    best_round: z.number().optional(),
    best_validation: z.number().optional(),
    epochs: z
      .array(
        z.object({
          epoch: z.number(),
          train_loss: z.number(),
          validation_loss: z.number(),
          validation_accuracy: z.number().optional(),
        }),
      )
      .optional(),
    validation: z.number().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    device: z.string().optional(),
    train_rows: z.number().optional(),
    validation_rows: z.number().optional(),
    pretrained_weights: z.string().nullish(),
  })
  .loose();
export type TrainingHistory = z.infer<typeof TrainingHistory>;

export interface ReportInputs {
  run: Run;
  /** profile.json from preprocess, when it ran. */
  profile?: Profile;
  /** evaluation.json from evaluate, when it ran. */
  evaluation?: Evaluation;
  /** history.json from the training job's model artifact. */
  history?: TrainingHistory;
  /** PNG plots from evaluate, by file name. */
  plots?: Record<string, Buffer>;
  /** Inputs that exist but could not be read, said plainly on the page. */
  problems?: string[];
}

/**
 * The model archive is read for history.json only up to this size, and unpacked in memory only
 * up to MODEL_UNPACKED_LIMIT_BYTES: the report function has 512 MB. A ResNet-18 archive is ~45 MB.
 */
export const MODEL_ARCHIVE_LIMIT_BYTES = 64 * 1024 * 1024;
const MODEL_UNPACKED_LIMIT_BYTES = 160 * 1024 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseJson(text: string, file: string): { json?: unknown; problem?: string } {
  try {
    return { json: JSON.parse(text) };
  } catch (error) {
    return { problem: `${file} is not valid JSON (${messageOf(error)}).` };
  }
}

function parseWith<T>(
  schema: z.ZodType<T>,
  text: string | undefined,
  file: string,
  problems: string[],
): T | undefined {
  if (text === undefined) return undefined;
  const { json, problem } = parseJson(text, file);
  if (problem) {
    problems.push(problem);
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  problems.push(
    `${file} does not have the expected layout (${issue?.path.join(".") || "the file"}: ${issue?.message}).`,
  );
  return undefined;
}

/**
 * The report's inputs from the raw job outputs, each optional: what a run that stopped early
 * lacks is simply absent, and what is present but unreadable becomes a problem sentence.
 */
export function reportInputs(
  run: Run,
  sources: {
    profile?: string;
    evaluation?: string;
    /** The training job's model.tar.gz, which holds history.json. */
    modelArchive?: Buffer;
    plots?: Record<string, Buffer>;
    problems?: string[];
  },
): ReportInputs {
  const problems = [...(sources.problems ?? [])];
  const plots: Record<string, Buffer> = {};
  const inputs: ReportInputs = { run, plots, problems };
  const profile = parseWith(Profile, sources.profile, "profile.json", problems);
  if (profile) inputs.profile = profile;
  if (sources.evaluation !== undefined) {
    const { json, problem } = parseJson(sources.evaluation, "evaluation.json");
    if (problem) problems.push(problem);
    else
      try {
        inputs.evaluation = parseEvaluation(json);
      } catch (error) {
        problems.push(`${messageOf(error)}.`);
      }
  }
  if (sources.modelArchive) {
    let text: string | undefined;
    try {
      text = tarGzMember(
        sources.modelArchive,
        "history.json",
        MODEL_UNPACKED_LIMIT_BYTES,
      )?.toString("utf8");
    } catch (error) {
      problems.push(
        error instanceof RangeError
          ? `The training history was not read: the model archive unpacks past ${MODEL_UNPACKED_LIMIT_BYTES / 2 ** 20} MiB.`
          : `The model archive could not be unpacked (${messageOf(error)}).`,
      );
    }
    const history = parseWith(TrainingHistory, text, "history.json", problems);
    if (history) inputs.history = history;
  }
  for (const [name, png] of Object.entries(sources.plots ?? {})) {
    if (png.subarray(0, 8).equals(PNG_SIGNATURE)) plots[name] = png;
    else problems.push(`The plot ${name} is not a PNG image and is left out.`);
  }
  return inputs;
}
