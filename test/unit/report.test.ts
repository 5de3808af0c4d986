import { describe, expect, it } from "vitest";
import { renderReport } from "../../core/report/index.js";
import {
  ALL_PLOTS,
  evaluation,
  failedAtPreprocess,
  HOSTILE_COLUMN,
  history,
  plots,
  profile,
  searchedRun,
  sectionText,
  succeededRun,
  visibleText,
} from "./report-fixtures.js";

function succeededReport(): string {
  return renderReport({
    run: succeededRun(),
    profile: profile(),
    evaluation: evaluation(),
    history: history(),
    plots: plots(),
  });
}

describe("the report of a succeeded run", () => {
  it("opens with the dataset, the outcome in colour, the model version and its approval", () => {
    const html = succeededReport();

    const header = /<header class="top good">([\s\S]*?)<\/header>/.exec(html)?.[1] ?? "";
    expect(header).toContain('<span class="pill big good">Succeeded</span>');
    expect(visibleText(header)).toContain("churn.csv");
    expect(visibleText(header)).toMatch(/Model churn version 3/);
    expect(visibleText(header)).toMatch(/Approval Approved/);
    expect(visibleText(header)).toContain("roc_auc 0.9123 met the gate ≥ 0.7");
  });

  it("names the run and its status for scripts, in meta tags", () => {
    const html = succeededReport();

    expect(html).toContain('<meta name="modeldrop-status" content="SUCCEEDED">');
    expect(html).toContain('<meta name="modeldrop-run" content="churn-3f2a9c1b0d4e">');
  });

  it("shows each metric with its standard deviation against the gate", () => {
    const metrics = sectionText(succeededReport(), "metrics");

    expect(metrics).toContain("✔ Gate passed");
    expect(metrics).toMatch(/roc_auc 0\.9123 ≥ threshold 0\.7/);
    expect(metrics).toContain("higher is better · the model was registered as version 3");
    expect(metrics).toMatch(/roc_auc gate 0\.9123 ± 0\.0187/);
    expect(metrics).toMatch(/accuracy 0\.8600 ± 0\.0210/);
    expect(metrics).toMatch(/log_loss 0\.3141 ± 0\.0400/);
    expect(metrics).toContain("180 rows");
    expect(metrics).toContain("Positive class: yes");
    expect(metrics).toMatch(/no 130 5 yes 20 25/);
  });

  it("embeds every plot as a data: URI with a caption, the training curve with training", () => {
    const html = succeededReport();

    const images = [...html.matchAll(/<img alt="([^"]*)" src="([^"]*)"/g)];
    expect(images).toHaveLength(ALL_PLOTS.length);
    for (const [, , src] of images) expect(src).toMatch(/^data:image\/png;base64,/);
    const shown = sectionText(html, "plots");
    for (const title of [
      "ROC curve",
      "Precision and recall",
      "Confusion matrix",
      "Feature importance",
    ])
      expect(shown).toContain(`${title}.`);
    expect(shown).not.toContain("Training curve");
    const training = sectionText(html, "training");
    expect(training).toContain("Training curve.");
    expect(training).toContain("3 boosting rounds; best round 3 with validation logloss 0.5100");
    expect(training).toContain("840 train, 180 validation");
    expect(training).toContain("max_depth=6");
  });

  it("profiles the dataset: rows, column types, missing share, balance, drops, renames, skips", () => {
    const shown = sectionText(succeededReport(), "profile");

    expect(shown).toContain("1,203 read, 1,200 used");
    expect(shown).toMatch(/plan string categorical .*12\.5 %/);
    expect(shown).toMatch(/no 900 · 75\.0 %/);
    expect(shown).toMatch(/yes 300 · 25\.0 %/);
    expect(shown).toContain(`Dropped columns ${HOSTILE_COLUMN}: constant (a single value)`);
    expect(shown).toContain("(blank #6) → column_6");
    expect(shown).toContain("3 rows skipped: wrong number of fields.");
    expect(shown).toContain("train 840, validation 180, test 180 (seeded 42, stratified)");
  });

  it("lists every inference with its reason, and the options it started from", () => {
    const shown = sectionText(succeededReport(), "inferences") ?? "";

    for (const note of profile().inferences ?? [])
      expect(shown).toContain(`${note.what} ${String(note.value)} ${note.why}`);
    expect(shown).toContain("Options from the object's metadata (x-amz-meta-*): target=churn");
  });

  it("draws each step on a timeline with its start, end and duration", () => {
    const html = succeededReport();
    const shown = sectionText(html, "timeline");

    expect(shown).toMatch(
      /train 10:00:46 10:02:40 1 min 54 s md-churn-3f2a9c1b0d4e-train ml\.m5\.xlarge/,
    );
    expect(shown).toContain("5 min 0 s in all");
    const bars = /<section id="timeline">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? "";
    expect(bars.match(/class="fill step"/g)).toHaveLength(4);
  });

  it("shows the search's leaderboard: scores with their spread, trials, time, cost, what was chosen and why", () => {
    const shown = sectionText(renderReport({ run: searchedRun() }), "search");

    expect(shown).toContain("Chosen: ensemble. a weighted ensemble of xgboost (60%), linear (40%)");
    expect(shown).toMatch(
      /1 xgboost 0\.9200 ± 0\.0130 5-fold cross-validation 7 \(budget\) 58\.2 s \$0\.0038 max_depth=4 learning_rate=0\.08/,
    );
    expect(shown).toMatch(/2 linear 0\.9000 ± 0\.0200 5-fold cross-validation 12 3\.1 s/);
    expect(shown).toContain("xgboost 60%, linear 40%: validation roc_auc 0.9300, chosen");
    expect(shown).toContain("The search was cut short");
    expect(shown).toContain(
      "train-lightgbm failed (States.TaskFailed): AlgorithmError: <lightgbm> ran out of memory",
    );
    expect(shown).toContain("never on the test split");
  });

  it("has no search section when the run had no search", () => {
    expect(renderReport({ run: succeededRun() })).not.toContain('id="search"');
  });

  it("breaks the cost down by step with the price table's date and what is not counted", () => {
    const run = succeededRun();
    const shown = sectionText(renderReport({ run }), "cost");

    expect(shown).toMatch(/train training ml\.m5\.xlarge 110 s \$0\.0070/);
    expect(shown).toMatch(/transform transform ml\.q9\.huge 76 s not in the price table/);
    expect(shown).toContain(`Total $${run.cost?.totalUsd.toFixed(4)}`);
    expect(shown).toContain(`of ${run.cost?.priceTable.date}, us-east-1`);
    expect(shown).toContain("Not counted: Lambda, Step Functions");
    expect(shown).toContain("ml.q9.huge");
  });

  it("records the lineage: code, images, libraries, algorithm, dataset version", () => {
    const shown = sectionText(succeededReport(), "lineage");

    expect(shown).toContain("c0de".repeat(16));
    expect(shown).toContain("pytorch-training:2.5.1-cpu-py311");
    expect(shown).toContain("xgboost 3.2.0");
    expect(shown).toContain("Algorithm xgboost");
    expect(shown).toContain("s3://modeldrop-data/inbox/churn.csv version v1");
  });

  it("carries the run's notes and has no failure section", () => {
    const html = succeededReport();

    expect(sectionText(html, "notes")).toContain("was not applied");
    expect(sectionText(html, "failure")).toBeUndefined();
  });

  it("needs nothing from the network: no script, no external URL, a CSP that forbids both", () => {
    const html = succeededReport();

    expect(html).not.toMatch(/<script|<link|<iframe/i);
    expect(html).not.toMatch(/(src|href)="(?!data:|#)/);
    expect(html).not.toMatch(/url\(/);
    expect(html).toContain("default-src 'none'; img-src data:");
  });
});

describe("the report of a run that failed at preprocess", () => {
  const html = renderReport({ run: failedAtPreprocess() });

  it("says where it failed, why, and where the log is", () => {
    const shown = sectionText(html, "failure");

    expect(html).toContain('<span class="pill big bad">Failed at preprocess</span>');
    expect(shown).toContain("Step preprocess");
    expect(shown).toContain("Error SageMaker.AmazonSageMakerException");
    expect(shown).toContain("has a single column ('a;b')");
    expect(shown).toContain(
      "CloudWatch Logs group /aws/sagemaker/ProcessingJobs, streams starting md-churn-3f2a9c1b0d4e-preprocess/",
    );
  });

  it("says plainly what it has no metrics, plots, profile or training for", () => {
    expect(sectionText(html, "metrics")).toBe(
      "Metrics and quality gate No metrics: the run failed at preprocess, before evaluate ran.",
    );
    expect(sectionText(html, "plots")).toBe(
      "Plots No plots: the run failed at preprocess, before evaluate ran.",
    );
    expect(sectionText(html, "profile")).toBe(
      "Dataset profile No dataset profile: the run failed at preprocess.",
    );
    expect(sectionText(html, "training")).toContain("before train ran");
    expect(sectionText(html, "timeline")).toContain(
      "preprocess failed; its job time was not recorded",
    );
    expect(html).not.toContain("<img");
  });

  it("says the failed job's cost is not counted", () => {
    expect(sectionText(html, "cost")).toBe(
      "Cost No SageMaker job finished, so no cost is recorded. The failed preprocess job is not counted: its times were not recorded, though SageMaker bills it.",
    );
  });
});

describe("the report of a run stopped during training", () => {
  it("says it was stopped and what that left out", () => {
    const { failure: _, cost: __, ...run } = failedAtPreprocess({ status: "STOPPED" });

    const html = renderReport({ run, profile: profile() });

    expect(html).toContain('<span class="pill big neutral">Stopped</span>');
    expect(sectionText(html, "metrics")).toContain(
      "No metrics: the run was stopped before evaluate finished.",
    );
    expect(sectionText(html, "profile")).toContain("1,203 read");
  });
});

describe("the report of a regression run", () => {
  it("captions the residual and predicted-against-actual plots and shows the target's range", () => {
    const regression = profile();
    regression.target = {
      name: "price",
      task: "regression",
      balance: { min: 10, max: 990.5, mean: 402.25, std: 120.125 },
    };
    const html = renderReport({
      run: succeededRun(),
      profile: regression,
      plots: plots(["predicted_vs_actual.png", "residuals.png", "extra.png"]),
    });

    const shown = sectionText(html, "plots");
    expect(shown).toMatch(/^Plots Residuals\. .* Predicted against actual\. .* extra\./);
    expect(sectionText(html, "profile")).toContain("Target: price Range 10 – 990.5 Mean 402.25");
  });
});

describe("escaping", () => {
  it("shows hostile dataset and column names as text, never as markup", () => {
    const run = succeededRun({
      dataset: {
        bucket: "modeldrop-data",
        key: 'inbox/<img src=x onerror="alert(1)">.csv',
        versionId: "v1",
        name: '<img src=x onerror="alert(1)">.csv',
      },
      notes: ["<b>bold</b> & 'quoted'"],
      failure: {
        step: "train",
        error: "<Error>",
        reason: "</td></tr></table><script>alert(2)</script>",
      },
    });

    const html = renderReport({ run, profile: profile(), evaluation: evaluation() });

    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.csv");
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;");
    expect(sectionText(html, "profile")).toContain(HOSTILE_COLUMN);
    expect(sectionText(html, "failure")).toContain("</td></tr></table><script>alert(2)</script>");
    expect(html).toMatch(/<title>modeldrop: &lt;img src=x/);
  });

  it("keeps a hostile plot file name out of the markup", () => {
    const html = renderReport({ run: succeededRun(), plots: plots(['"><script>x</script>.png']) });

    expect(html).not.toContain("<script>");
    expect(html).toContain('alt="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });
});
