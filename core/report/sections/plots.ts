/** The PNG plots from evaluate, embedded as data: URIs in a fixed order, each with its caption. */
import { emptySection, type Html, html, section } from "../html.js";
import type { ReportInputs } from "../inputs.js";
import { whyMissing } from "../wording.js";

const PLOT_CAPTIONS: [string, string, string][] = [
  [
    "roc",
    "ROC curve",
    "True-positive rate against false-positive rate on the test split as the decision threshold moves; the dashed diagonal is a coin toss, the area under the curve is roc_auc.",
  ],
  [
    "precision_recall",
    "Precision and recall",
    "Precision against recall on the test split as the decision threshold moves; the legend gives the average precision.",
  ],
  [
    "confusion_matrix",
    "Confusion matrix",
    "Counts of test rows by actual class (rows) and predicted class (columns).",
  ],
  [
    "residuals",
    "Residuals",
    "Actual minus predicted against the prediction on the test split; a good model scatters evenly around zero.",
  ],
  [
    "predicted_vs_actual",
    "Predicted against actual",
    "Each test row's prediction against its true value; points on the dashed diagonal are exact.",
  ],
  [
    "feature_importance",
    "Feature importance",
    "Each input column's share of the model's importance (the top 20).",
  ],
  [
    "training_curve",
    "Training curve",
    "The loss on the train and validation data after each round or epoch; the dashed line marks the best round.",
  ],
];

export function figure(name: string, png: Buffer): Html {
  const stem = name.replace(/\.png$/i, "");
  const known = PLOT_CAPTIONS.find(([key]) => key === stem);
  const title = known?.[1] ?? stem;
  const caption = known?.[2] ?? "";
  return html`<figure class="plot" id="plot-${stem.replace(/[^A-Za-z0-9_-]/g, "-")}"><img alt="${title}" src="data:image/png;base64,${png.toString("base64")}"><figcaption><b>${title}.</b> ${caption}</figcaption></figure>`;
}

function orderedPlots(plots: Record<string, Buffer>): [string, Buffer][] {
  const rank = (name: string) => {
    const index = PLOT_CAPTIONS.findIndex(([key]) => `${key}.png` === name);
    return index === -1 ? PLOT_CAPTIONS.length : index;
  };
  return Object.entries(plots).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function plotsSection(inputs: ReportInputs): Html {
  const plots = orderedPlots(inputs.plots ?? {}).filter(([name]) => name !== "training_curve.png");
  if (plots.length === 0)
    return emptySection("plots", "Plots", whyMissing(inputs.run, "plots", "evaluate"));
  return section(
    "plots",
    "Plots",
    html`<div class="plots">${plots.map(([name, png]) => figure(name, png))}</div>`,
  );
}
