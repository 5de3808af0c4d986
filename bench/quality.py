"""Benchmark: how good are modeldrop's models? (issue 15)

Ten small public tables (scikit-learn's and statsmodels' bundled data sets, and two generated
with a known structure), each split once, seeded, into 80% that a system learns from and a
held-out 20% (stratified for classes) that it never sees. Three systems are scored on the same
held-out rows with the metric modeldrop's gate uses by default (roc_auc for binary, accuracy
for multiclass, r2 for regression):

* modeldrop's ``balanced`` preset, its jobs run as separate processes as the local cloud runs
  them: preprocess, one train job per candidate algorithm one after another, select;
* plain XGBoost as a ten-line notebook would have it: one-hot categories, median imputation,
  300 rounds of depth 4 at the default learning rate;
* AutoGluon's ``medium_quality`` preset with the same time budget, in its own virtualenv
  (``bash bench/setup-autogluon.sh``), as a subprocess.

Targets (printed as checks; they fail the run only with --strict): modeldrop's mean rank beats
AutoGluon's, and on no data set does modeldrop trail plain XGBoost by more than the split's
noise (the bootstrap standard error of XGBoost's held-out metric).

    .venv/bin/python bench/quality.py
    .venv/bin/python bench/quality.py --datasets iris wine --systems xgboost autogluon --budget 30

The same file also runs under .venv-autogluon, as the AutoGluon driver and the statsmodels
exporter (``_autogluon`` and ``_statsmodels`` as the first argument); so only numpy, pandas and
scikit-learn, which both environments have, are imported at the top.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn import datasets as sk_datasets
from sklearn import metrics
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work" / "quality"
RESULTS = ROOT / "bench" / "results"
PRESETS = ROOT / "ml" / "modeldrop_ml" / "presets.json"
MODELDROP_PYTHON = ROOT / ".venv" / "bin" / "python"
AUTOGLUON_PYTHON = ROOT / ".venv-autogluon" / "bin" / "python"

SEED = 0
TEST_SHARE = 0.2
BOOTSTRAP_ROUNDS = 200
TARGET = "target"
PRESET = "balanced"
SYSTEMS = ("modeldrop", "xgboost", "autogluon")
METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}

# modeldrop_ml is imported only inside the functions that score and load: under .venv-autogluon
# this file runs as a helper, where modeldrop's own pins are absent.
sys.path.insert(0, str(ROOT / "ml"))


# --- data sets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str
    source: str
    build: Callable[[], pd.DataFrame]  # every column a feature but TARGET


def bundled(loader: Callable[..., Any], **options: Any) -> Callable[[], pd.DataFrame]:
    """A scikit-learn loader whose data ships inside the package (no download)."""

    def build() -> pd.DataFrame:
        return loader(as_frame=True, **options).frame

    return build


def friedman() -> pd.DataFrame:
    """Friedman #1: y = 10 sin(π x0 x1) + 20 (x2 − ½)² + 10 x3 + 5 x4 + noise; x5…x9 are noise.
    A known non-linear, interacting signal among useless columns."""
    features, target = sk_datasets.make_friedman1(
        n_samples=2000, n_features=10, noise=1.0, random_state=SEED
    )
    frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(10)]).round(5)
    frame[TARGET] = target.round(5)
    return frame


def churn() -> pd.DataFrame:
    """Churn with what real exports hold: a zip code of 400 levels whose churn rate differs (as
    digits, the way a CSV carries it), a customer number that carries nothing, missing incomes,
    text plans and channels with gaps, and a yes/no target."""
    rng = np.random.default_rng(SEED)
    rows, zips = 5000, 400
    zip_codes = rng.choice(np.arange(1000, 99999), size=zips, replace=False)
    popularity = rng.zipf(1.6, size=zips).astype(float)  # a few large towns, a long tail
    place = rng.choice(zips, size=rows, p=popularity / popularity.sum())
    zip_effect = rng.normal(0, 1.0, size=zips)[place]
    tenure = rng.gamma(2.0, 12.0, size=rows).round()
    income = rng.lognormal(10.5, 0.5, size=rows).round(-2)
    plans = np.array(["basic", "plus", "pro"])
    plan = rng.choice(3, size=rows, p=[0.5, 0.3, 0.2])
    channels = np.array(["web", "store", "phone", "partner"])
    channel = rng.choice(4, size=rows)
    score = (
        zip_effect
        - 0.04 * (tenure - 24)
        - 0.6 * (np.log(income) - 10.5)
        + np.array([0.5, 0.0, -0.7])[plan]
        + np.array([0.0, -0.2, 0.3, 0.1])[channel]
        + rng.logistic(0, 1, size=rows)
    )
    frame = pd.DataFrame(
        {
            "customer_id": rng.permutation(rows) + 100_000,
            "zip": zip_codes[place],
            "tenure_months": tenure.astype(int),
            "income": np.where(rng.random(rows) < 0.15, np.nan, income),
            "plan": np.where(rng.random(rows) < 0.05, None, plans[plan]),
            "channel": channels[channel],
        }
    )
    frame[TARGET] = np.where(score > np.quantile(score, 0.7), "yes", "no")
    return frame


def statsmodels_table(name: str) -> Callable[[], pd.DataFrame]:
    """A statsmodels data set, exported to CSV by .venv-autogluon (statsmodels is not in .venv)."""

    def build() -> pd.DataFrame:
        path = WORK / "statsmodels" / f"{name}.csv"
        if not path.exists():
            if not AUTOGLUON_PYTHON.exists():
                raise SystemExit(
                    f"{name} comes from statsmodels, which lives in .venv-autogluon: "
                    "run `bash bench/setup-autogluon.sh` first"
                )
            subprocess.run(
                [str(AUTOGLUON_PYTHON), __file__, "_statsmodels", str(path.parent)], check=True
            )
        return pd.read_csv(path)

    return build


DATASETS = [
    Dataset("breast_cancer", "binary", "scikit-learn", bundled(sk_datasets.load_breast_cancer)),
    Dataset("fair", "binary", "statsmodels (affairs > 0)", statsmodels_table("fair")),
    Dataset("churn_zip", "binary", "generated", churn),
    Dataset("iris", "multiclass", "scikit-learn", bundled(sk_datasets.load_iris)),
    Dataset("wine", "multiclass", "scikit-learn", bundled(sk_datasets.load_wine)),
    Dataset("digits", "multiclass", "scikit-learn", bundled(sk_datasets.load_digits)),
    Dataset("anes96", "multiclass", "statsmodels (party id)", statsmodels_table("anes96")),
    Dataset(
        "diabetes", "regression", "scikit-learn", bundled(sk_datasets.load_diabetes, scaled=False)
    ),
    Dataset("star98", "regression", "statsmodels (share above)", statsmodels_table("star98")),
    Dataset("friedman1", "regression", "generated", friedman),
]


def export_statsmodels(folder: Path) -> None:
    """Runs under .venv-autogluon. Each set keeps the explanatory columns its own loader names
    (``exog``); the target is its ``endog``, made one column where the loader gives a count."""
    import statsmodels.api as sm

    folder.mkdir(parents=True, exist_ok=True)
    fair = sm.datasets.fair.load_pandas()
    # the textbook use of Fair's data (statsmodels' own logit example): did any affair happen?
    table = fair.exog.assign(**{TARGET: (fair.endog > 0).astype(int)})
    table.to_csv(folder / "fair.csv", index=False)
    anes = sm.datasets.anes96.load_pandas()
    anes.exog.assign(**{TARGET: anes.endog.astype(int)}).to_csv(folder / "anes96.csv", index=False)
    star = sm.datasets.star98.load_pandas()
    above, below = star.endog.iloc[:, 0], star.endog.iloc[:, 1]
    star.exog.assign(**{TARGET: (above / (above + below)).round(6)}).to_csv(
        folder / "star98.csv", index=False
    )


# --- the split ------------------------------------------------------------------------------


@dataclass
class Split:
    """One data set's seeded split, on disk as CSVs every system reads."""

    dataset: Dataset
    train_csv: Path
    test_csv: Path
    rows: int
    features: int
    actual: np.ndarray  # held-out targets: class indices into ``classes``, or numbers
    classes: list[str] | None


def label_texts(values: pd.Series) -> list[str]:
    """Class labels as modeldrop writes them (1 and 1.0 become '1'), so all systems are scored
    against the same strings."""
    from modeldrop_ml.schema import label_text

    return [label_text(value) for value in values]


def class_order(values: pd.Series) -> list[str]:
    """The class order modeldrop's probabilities come in (numbers sorted as numbers)."""
    from modeldrop_ml.schema import sorted_labels

    return sorted_labels(values.dropna().unique().tolist())


def split(dataset: Dataset) -> Split:
    frame = dataset.build()
    target = frame[TARGET]
    train, test = train_test_split(
        frame,
        test_size=TEST_SHARE,
        random_state=SEED,
        stratify=None if dataset.task == "regression" else target,
    )
    folder = WORK / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    classes = None if dataset.task == "regression" else class_order(target)
    if classes is None:
        actual = test[TARGET].to_numpy(dtype=float)
    else:
        actual = np.array([classes.index(label) for label in label_texts(test[TARGET])])
    return Split(
        dataset,
        folder / "train.csv",
        folder / "test.csv",
        len(frame),
        frame.shape[1] - 1,
        actual,
        classes,
    )


# --- scoring --------------------------------------------------------------------------------


def score(task: str, actual: np.ndarray, predicted: np.ndarray) -> float:
    """The gate's default metric. ``predicted`` is rows × classes probabilities in the split's
    class order, or the predicted numbers."""
    if task == "binary":
        return float(metrics.roc_auc_score(actual, predicted[:, 1]))
    if task == "multiclass":
        return float(metrics.accuracy_score(actual, predicted.argmax(axis=1)))
    return float(metrics.r2_score(actual, predicted))


def bootstrap_error(task: str, actual: np.ndarray, predicted: np.ndarray) -> float:
    """The standard error of the held-out metric from resampling the held-out rows: how far a
    figure moves from the luck of which rows were held out, not from the model."""
    rng = np.random.default_rng(SEED)
    figures = []
    for _ in range(BOOTSTRAP_ROUNDS):
        rows = rng.integers(0, len(actual), len(actual))
        if task != "regression" and len(np.unique(actual[rows])) < 2:
            continue  # roc_auc is undefined on a one-class resample
        figures.append(score(task, actual[rows], predicted[rows]))
    return float(np.std(figures, ddof=1))


def mean_ranks(table: dict[str, dict[str, float]], systems: list[str]) -> dict[str, float]:
    """1 is best; ties share the mean of their ranks; a system that failed ranks last."""
    totals = dict.fromkeys(systems, 0.0)
    for figures in table.values():
        values = [figures.get(system, np.nan) for system in systems]
        ranks = rankdata([-v if np.isfinite(v) else np.inf for v in values], method="average")
        for system, rank in zip(systems, ranks, strict=True):
            totals[system] += float(rank)
    return {system: total / len(table) for system, total in totals.items()}


# --- the systems ----------------------------------------------------------------------------


class SystemFailed(Exception):
    """A system produced no predictions for a data set; the run goes on without them."""


@dataclass
class Outcome:
    predicted: np.ndarray
    wall_s: float
    detail: dict[str, Any] = field(default_factory=dict)


def probability_columns(frame: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """Probabilities reordered into the split's class order, whatever order a system wrote."""
    missing = [label for label in classes if label not in frame.columns]
    if missing:
        raise SystemFailed(f"predictions lack classes {missing} (has {list(frame.columns)})")
    return frame[classes].to_numpy(dtype=float)


def run_xgboost(data: Split, budget: float) -> Outcome:
    """The ten-line notebook; the budget does not apply (300 rounds take seconds here)."""
    import xgboost as xgb

    started = time.monotonic()
    train, test = pd.read_csv(data.train_csv), pd.read_csv(data.test_csv)
    features = pd.get_dummies(pd.concat([train, test]).drop(columns=TARGET), dtype=float)
    x_train, x_test = features.iloc[: len(train)], features.iloc[len(train) :]
    medians = x_train.median()
    x_train, x_test = x_train.fillna(medians), x_test.fillna(medians)
    settings = {"n_estimators": 300, "max_depth": 4, "random_state": SEED}
    if data.classes is None:
        model = xgb.XGBRegressor(**settings).fit(x_train, train[TARGET])
        predicted = model.predict(x_test).astype(float)
    else:
        labels = [data.classes.index(label) for label in label_texts(train[TARGET])]
        model = xgb.XGBClassifier(**settings).fit(x_train, labels)
        predicted = model.predict_proba(x_test)
    return Outcome(predicted, time.monotonic() - started)


def run_autogluon(data: Split, budget: float) -> Outcome:
    """medium_quality under the same budget, in .venv-autogluon; its output is kept in
    ``autogluon/autogluon.log`` beside the split."""
    if not AUTOGLUON_PYTHON.exists():
        raise SystemFailed("no .venv-autogluon: run `bash bench/setup-autogluon.sh` first")
    folder = WORK / data.dataset.name / "autogluon"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    predictions = folder / "predictions.csv"
    started = time.monotonic()
    result = subprocess.run(
        [
            str(AUTOGLUON_PYTHON),
            __file__,
            "_autogluon",
            json.dumps(
                {
                    "train": str(data.train_csv),
                    "test": str(data.test_csv),
                    "predictions": str(predictions),
                    "models": str(folder / "models"),
                    "task": data.dataset.task,
                    "metric": METRIC[data.dataset.task],
                    "time_limit": budget,
                }
            ),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    (folder / "autogluon.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemFailed(f"AutoGluon exited {result.returncode}: {result.stderr[-1500:]}")
    frame = pd.read_csv(predictions, dtype={"prediction": float})
    if data.classes is None:
        return Outcome(frame["prediction"].to_numpy(dtype=float), wall)
    frame.columns = label_texts(pd.Series(frame.columns))
    return Outcome(probability_columns(frame, data.classes), wall)


def autogluon_driver(request: dict[str, Any]) -> None:
    """Runs under .venv-autogluon: fit medium_quality on the training CSV, write the held-out
    predictions (a probability column per class, or ``prediction``)."""
    from autogluon.tabular import TabularPredictor

    train = pd.read_csv(request["train"])
    test = pd.read_csv(request["test"]).drop(columns=TARGET)
    predictor = TabularPredictor(
        label=TARGET,
        problem_type=request["task"],
        eval_metric=request["metric"],
        path=request["models"],
        verbosity=1,
    ).fit(train, presets="medium_quality", time_limit=request["time_limit"])
    if request["task"] == "regression":
        output = pd.DataFrame({"prediction": predictor.predict(test)})
    else:
        output = predictor.predict_proba(test)
        output.columns = [str(label) for label in output.columns]
    output.to_csv(request["predictions"], index=False)


def modeldrop_job(module: str, arguments: list[str], opt_ml: Path, name: str = "") -> float:
    """One modeldrop job as its own process, as the local cloud runs it; its wall time. Its
    output is kept in ``<opt_ml>/<name>.log`` to read after a failure."""
    name = name or module
    environment = {
        **os.environ,
        "MODELDROP_OPT_ML": str(opt_ml),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT / "ml"),
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(MODELDROP_PYTHON), "-m", f"modeldrop_ml.{module}", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    (opt_ml / f"{name}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        failure = opt_ml / "output" / "failure"
        reason = failure.read_text().strip() if failure.exists() else result.stderr[-1500:]
        raise SystemFailed(f"{name} failed ({result.returncode}): {reason}")
    return wall


def preset() -> dict[str, Any]:
    return json.loads(PRESETS.read_text())


def inferred_task(processed: Path) -> str | None:
    """What modeldrop's preprocess decided to learn, read defensively from profile.json."""
    profile = json.loads((processed / "profile.json").read_text())
    target = profile.get("target")
    return target.get("task") if isinstance(target, dict) else None


def run_modeldrop(data: Split, budget: float) -> Outcome:
    """preprocess → one train job per candidate of the preset, each with an equal share of the
    budget (the local cloud runs one job at a time) → select → the winner predicts here."""
    settings = preset()
    candidates = settings["presets"][PRESET]["tabular"]
    share = max(budget / len(candidates), settings["min_candidate_seconds"])
    work = WORK / data.dataset.name / "modeldrop"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    processed, selected = work / "processed", work / "selected"
    wall = modeldrop_job(
        "preprocess",
        [
            "--input",
            str(data.train_csv),
            "--output",
            str(processed),
            "--options",
            json.dumps({"preset": PRESET}),
        ],
        work,
    )
    task = inferred_task(processed)
    if task != data.dataset.task:
        raise SystemFailed(f"modeldrop read the task as {task}, not {data.dataset.task}")
    for algorithm in candidates:
        wall += modeldrop_job(
            "train",
            [
                "--train",
                str(processed / "train"),
                "--validation",
                str(processed / "validation"),
                "--model-dir",
                str(work / "candidates" / algorithm),
                "--preset",
                PRESET,
                "--time_budget_seconds",
                f"{share:g}",
                "--algorithm",
                algorithm,
            ],
            work,
            f"train-{algorithm}",
        )
    wall += modeldrop_job(
        "select",
        [
            "--candidates",
            str(work / "candidates"),
            "--output",
            str(selected),
            "--preset",
            PRESET,
        ],
        work,
    )
    started = time.monotonic()
    predicted = modeldrop_predictions(data, selected, work / "unpacked")
    wall += time.monotonic() - started
    return Outcome(predicted, wall, {"winner": leaderboard_winner(selected)})


def modeldrop_predictions(data: Split, selected: Path, scratch: Path) -> np.ndarray:
    """The selected model, loaded as serving loads it, on the held-out rows as a user sends
    them (text cells; the model's own schema types them)."""
    from modeldrop_ml.artifact import load_model, unpack_model

    scratch.mkdir(parents=True, exist_ok=True)
    model = load_model(unpack_model(selected, scratch))
    rows = pd.read_csv(data.test_csv, dtype=str).drop(columns=TARGET)
    absent = [name for name in model.schema.input_columns if name not in rows.columns]
    if absent:
        raise SystemFailed(f"the model expects columns the held-out rows lack: {absent}")
    prediction = model.predict(rows)
    if data.classes is None:
        return np.asarray(prediction.values, dtype=float)
    frame = pd.DataFrame(prediction.probabilities, columns=model.schema.classes)
    return probability_columns(frame, data.classes)


def leaderboard_winner(selected: Path) -> Any:
    """What select's leaderboard.json names as the winner, whatever shape it has."""
    path = selected / "leaderboard.json"
    if not path.exists():
        return None
    board = json.loads(path.read_text())
    return board.get("winner") if isinstance(board, dict) else None


RUNNERS: dict[str, Callable[[Split, float], Outcome]] = {
    "modeldrop": run_modeldrop,
    "xgboost": run_xgboost,
    "autogluon": run_autogluon,
}


# --- the run --------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [dataset.name for dataset in DATASETS]
    parser.add_argument("--datasets", nargs="+", choices=names, default=names)
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help=f"seconds for modeldrop and AutoGluon (default: presets.json's {PRESET} budget)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def benchmark(dataset: Dataset, systems: list[str], budget: float) -> dict[str, Any]:
    data = split(dataset)
    record: dict[str, Any] = {
        "name": dataset.name,
        "task": dataset.task,
        "source": dataset.source,
        "rows": data.rows,
        "features": data.features,
        "test_rows": len(data.actual),
        "metric": METRIC[dataset.task],
        "systems": {},
    }
    for system in systems:
        print(f"{dataset.name}: {system} …", flush=True)
        try:
            outcome = RUNNERS[system](data, budget)
        except SystemFailed as error:
            print(f"  failed: {error}", flush=True)
            record["systems"][system] = {"metric": None, "error": str(error)}
            continue
        figure = score(dataset.task, data.actual, outcome.predicted)
        record["systems"][system] = {
            "metric": round(figure, 4),
            "wall_s": round(outcome.wall_s, 1),
            # the machine is shared: other work here slows two-thread jobs many times over
            "load_1m_after": round(os.getloadavg()[0], 2),
            **outcome.detail,
        }
        print(f"  {METRIC[dataset.task]} {figure:.4f} in {outcome.wall_s:.1f} s", flush=True)
        if system == "xgboost":
            noise = bootstrap_error(dataset.task, data.actual, outcome.predicted)
            record["noise_se"] = round(noise, 4)
    return record


def checks(records: list[dict[str, Any]], ranks: dict[str, float]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    if "modeldrop" in ranks and "autogluon" in ranks:
        found.append(
            (
                f"modeldrop's mean rank {ranks['modeldrop']:.2f} beats AutoGluon's "
                f"{ranks['autogluon']:.2f}",
                ranks["modeldrop"] < ranks["autogluon"],
            )
        )
    for record in records:
        figures = record["systems"]
        if "modeldrop" not in figures or "xgboost" not in figures:
            continue
        ours, plain = figures["modeldrop"]["metric"], figures["xgboost"]["metric"]
        noise = record.get("noise_se", 0.0)
        if ours is None or plain is None:
            found.append((f"{record['name']}: no figure to compare with XGBoost", False))
            continue
        found.append(
            (
                f"{record['name']}: modeldrop {ours:.4f} vs XGBoost {plain:.4f} "
                f"(noise ±{noise:.4f})",
                ours >= plain - noise,
            )
        )
    return found


def winner_text(winner: Any) -> str:
    if isinstance(winner, dict):
        return str(winner.get("algorithm") or winner.get("name") or json.dumps(winner))
    return "" if winner is None else str(winner)


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(records: list[dict[str, Any]], systems: list[str], ranks: dict[str, float]) -> str:
    """The markdown table: one row per data set, a metric and seconds per system."""
    named = "modeldrop" in systems
    heading = ["data set", "task", "rows", "metric", "noise ±"]
    for system in systems:
        heading += [system, "s"]
    heading += ["modeldrop's winner"] if named else []
    lines = [row(heading), row(["---"] * len(heading))]
    for record in records:
        cells = [
            record["name"],
            record["task"],
            str(record["rows"]),
            record["metric"],
            str(record.get("noise_se", "")),
        ]
        for system in systems:
            figures = record["systems"][system]
            metric = "failed" if figures["metric"] is None else f"{figures['metric']:.4f}"
            cells += [metric, str(figures.get("wall_s", ""))]
        if named:
            cells.append(winner_text(record["systems"]["modeldrop"].get("winner")))
        lines.append(row(cells))
    totals = ["**mean rank**", "", "", "", ""]
    for system in systems:
        totals += [f"{ranks[system]:.2f}", ""]
    totals += [""] if named else []
    lines.append(row(totals))
    return "\n".join(lines)


def write_results(record: dict[str, Any], table: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(record, indent=2) + "\n")
    checks_text = "\n".join(
        f"- {'PASS' if item['pass'] else 'FAIL'}: {item['check']}" for item in record["checks"]
    )
    (RESULTS / "quality.md").write_text(
        f"# Model quality benchmark ({record['date']}, {record['host']['cpus']} CPUs, "
        f"budget {record['budget_s']:g} s)\n\n{table}\n\n{checks_text}\n"
    )


def main(args: argparse.Namespace) -> int:
    budget = args.budget or preset()["presets"][PRESET]["budget_seconds"]
    chosen = [dataset for dataset in DATASETS if dataset.name in args.datasets]
    systems = [system for system in SYSTEMS if system in args.systems]
    records = [benchmark(dataset, systems, budget) for dataset in chosen]
    figures = {
        record["name"]: {
            system: np.nan if result["metric"] is None else result["metric"]
            for system, result in record["systems"].items()
        }
        for record in records
    }
    ranks = mean_ranks(figures, systems)
    found = checks(records, ranks)
    table = report(records, systems, ranks)
    print(table + "\n")
    print("\n".join(f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in found))
    write_results(
        {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            "preset": PRESET,
            "budget_s": budget,
            "seed": SEED,
            "test_share": TEST_SHARE,
            "bootstrap_rounds": BOOTSTRAP_ROUNDS,
            "systems": systems,
            "datasets": records,
            "mean_ranks": {system: round(rank, 3) for system, rank in ranks.items()},
            "checks": [{"check": text, "pass": ok} for text, ok in found],
        },
        table,
    )
    return 1 if args.strict and not all(ok for _, ok in found) else 0


def entry(argv: list[str]) -> int:
    """The benchmark, or one of the helpers the benchmark runs under .venv-autogluon."""
    if argv[:1] == ["_autogluon"]:
        autogluon_driver(json.loads(argv[1]))
        return 0
    if argv[:1] == ["_statsmodels"]:
        export_statsmodels(Path(argv[1]))
        return 0
    return main(parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(entry(sys.argv[1:]))
