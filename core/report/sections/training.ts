/** How the model was trained: rounds or epochs, the best one, the parameters and the training curve. */
import { num, short } from "../format.js";
import { emptySection, type Html, html, missing, type Part, section, table } from "../html.js";
import type { ReportInputs } from "../inputs.js";
import { whyMissing } from "../wording.js";
import { figure } from "./plots.js";

export function trainingSection(inputs: ReportInputs): Html {
  const { run, history, evaluation } = inputs;
  const curve = inputs.plots?.["training_curve.png"];
  const modelInfo = evaluation?.modeldrop.model_info;
  if (!history && !curve && !modelInfo)
    return emptySection("training", "Training", whyMissing(run, "training history", "train"));
  const rows: [Part, Part][] = [];
  const algorithm = history?.algorithm ?? evaluation?.modeldrop.algorithm ?? run.lineage?.algorithm;
  if (algorithm) rows.push(["Algorithm", algorithm]);
  if (history?.rounds && history.rounds.length > 0) {
    const best = history.best_round ?? history.rounds.length;
    rows.push([
      "Rounds",
      `${num(history.rounds.length)} boosting rounds; best round ${num(best)}${history.best_validation === undefined ? "" : ` with validation ${history.metric ?? "score"} ${num(history.best_validation)}`}`,
    ]);
  }
  if (history?.epochs && history.epochs.length > 0) {
    const best = history.epochs.reduce((a, b) => (b.validation_loss < a.validation_loss ? b : a));
    rows.push([
      "Epochs",
      `${num(history.epochs.length)} epochs; best epoch ${num(best.epoch)} with validation loss ${num(best.validation_loss)}${best.validation_accuracy === undefined ? "" : `, accuracy ${num(best.validation_accuracy)}`}`,
    ]);
  }
  if (history?.validation !== undefined)
    rows.push(["Validation score", `${history.metric ?? "score"} ${num(history.validation)}`]);
  if (history?.train_rows !== undefined)
    rows.push([
      "Rows",
      `${num(history.train_rows)} train, ${num(history.validation_rows ?? 0)} validation`,
    ]);
  if (history?.device) rows.push(["Device", history.device]);
  if (history?.pretrained_weights) rows.push(["Started from", history.pretrained_weights]);
  const parameters = history?.parameters ?? modelInfo?.hyperparameters;
  if (parameters && typeof parameters === "object" && Object.keys(parameters).length > 0)
    rows.push([
      "Parameters",
      html`<span class="chips">${Object.entries(parameters).map(([k, v]) => html`<code>${k}=${short(v)}</code> `)}</span>`,
    ]);
  const noCurve =
    history && !history.rounds && !history.epochs
      ? `No training curve: ${algorithm ?? "this algorithm"} trains in one pass.`
      : "No training curve was drawn.";
  return section(
    "training",
    "Training",
    html`${rows.length > 0 ? table(rows) : ""}${curve ? html`<div class="plots single">${figure("training_curve.png", curve)}</div>` : missing(noCurve)}`,
  );
}
