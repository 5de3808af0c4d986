"""Processing job: score the held-out test split and write evaluation.json and plots.

Inputs: ``--model`` (default ``/opt/ml/processing/input/model``) holds the training job's
``model.tar.gz`` (SageMaker does not unpack it) or its unpacked files; ``--test`` (default
``/opt/ml/processing/input/test``) is preprocess's test split. Output ``--output`` (default
``/opt/ml/processing/output/evaluation``)::

    evaluation.json   SageMaker model-quality layout: binary_classification_metrics,
                      multiclass_classification_metrics or regression_metrics, each metric
                      {"value", "standard_deviation"} (std from a seeded bootstrap of the test
                      rows), the confusion matrix (actual → predicted → count) and curves;
                      a "modeldrop" section with the task, classes, row count, plot names
                      and the training run's model-info.json (libraries, hardware)
    plots/*.png       roc, precision_recall, confusion_matrix, residuals, predicted_vs_actual,
                      feature_importance, training_curve (those that apply)

Metric names match the ``metric`` run option. For binary tasks the positive class is the
second class in sorted order (``1`` of 0/1, ``true``, ``yes``). Multiclass precision, recall,
f1 and roc_auc are macro averages (each class counts the same); weighted_f1 weighs by support.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from . import env
from .artifact import load_model, unpack_model
from .errors import JobArgumentParser, run_job
from .plots import write_plots
from .progress import log, progress
from .tabular import encode_labels

STEP = "evaluate"
BOOTSTRAP_ROUNDS = 30
BOOTSTRAP_MAX_ROWS = 50_000
CURVE_POINTS = 200


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="evaluate", description=__doc__)
    parser.add_argument("--model", type=Path, default=env.processing_input("model"))
    parser.add_argument("--test", type=Path, default=env.processing_input("test"))
    parser.add_argument("--output", type=Path, default=env.processing_output("evaluation"))
    return parser.parse_args(argv)


def _value(fn: Callable[[np.ndarray], float], rows: int, seed: int = 7) -> dict[str, float]:
    """A metric's value on all rows and its bootstrap standard deviation."""
    everything = np.arange(rows)
    value = float(fn(everything))
    rng = np.random.default_rng(seed)
    size = min(rows, BOOTSTRAP_MAX_ROWS)
    samples = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for _ in range(BOOTSTRAP_ROUNDS):
            try:
                sample = float(fn(rng.choice(rows, size=size, replace=True)))
            except ValueError:
                continue  # a resample without every class has no ROC AUC
            if np.isfinite(sample):
                samples.append(sample)
    spread = float(np.std(samples)) if samples else 0.0
    return {"value": value, "standard_deviation": spread}


def _confusion(
    actual: np.ndarray, predicted: np.ndarray, classes: list[str]
) -> dict[str, dict[str, int]]:
    matrix = metrics.confusion_matrix(actual, predicted, labels=list(range(len(classes))))
    return {
        classes[i]: {classes[j]: int(matrix[i, j]) for j in range(len(classes))}
        for i in range(len(classes))
    }


def _thin(values: np.ndarray) -> list[float]:
    if len(values) <= CURVE_POINTS:
        return [float(v) for v in values]
    picks = np.linspace(0, len(values) - 1, CURVE_POINTS).astype(int)
    return [float(values[i]) for i in picks]


def classification_metrics(
    actual: np.ndarray, probabilities: np.ndarray, classes: list[str]
) -> dict[str, Any]:
    predicted = probabilities.argmax(axis=1)
    rows = len(actual)
    labels = list(range(len(classes)))
    if len(classes) == 2:
        positive = probabilities[:, 1]
        found = {
            "accuracy": _value(lambda i: metrics.accuracy_score(actual[i], predicted[i]), rows),
            "precision": _value(
                lambda i: metrics.precision_score(actual[i], predicted[i], zero_division=0), rows
            ),
            "recall": _value(
                lambda i: metrics.recall_score(actual[i], predicted[i], zero_division=0), rows
            ),
            "f1": _value(
                lambda i: metrics.f1_score(actual[i], predicted[i], zero_division=0), rows
            ),
            "log_loss": _value(
                lambda i: metrics.log_loss(actual[i], positive[i], labels=labels), rows
            ),
        }
        if len(np.unique(actual)) == 2:
            found["roc_auc"] = _value(lambda i: metrics.roc_auc_score(actual[i], positive[i]), rows)
            fpr, tpr, _ = metrics.roc_curve(actual, positive)
            precision, recall, _ = metrics.precision_recall_curve(actual, positive)
            found["receiver_operating_characteristic_curve"] = {
                "false_positive_rates": _thin(fpr),
                "true_positive_rates": _thin(tpr),
            }
            found["precision_recall_curve"] = {
                "precisions": _thin(precision),
                "recalls": _thin(recall),
            }
        found["confusion_matrix"] = _confusion(actual, predicted, classes)
        return {"binary_classification_metrics": found}
    found = {
        "accuracy": _value(lambda i: metrics.accuracy_score(actual[i], predicted[i]), rows),
        "precision": _value(
            lambda i: metrics.precision_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "recall": _value(
            lambda i: metrics.recall_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "f1": _value(
            lambda i: metrics.f1_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "weighted_f1": _value(
            lambda i: metrics.f1_score(
                actual[i], predicted[i], average="weighted", labels=labels, zero_division=0
            ),
            rows,
        ),
        "log_loss": _value(
            lambda i: metrics.log_loss(actual[i], probabilities[i], labels=labels), rows
        ),
    }
    if len(np.unique(actual)) == len(classes):
        found["roc_auc"] = _value(
            lambda i: metrics.roc_auc_score(
                actual[i], probabilities[i], multi_class="ovr", labels=labels
            ),
            rows,
        )
    found["confusion_matrix"] = _confusion(actual, predicted, classes)
    return {"multiclass_classification_metrics": found}


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    rows = len(actual)
    return {
        "regression_metrics": {
            "rmse": _value(
                lambda i: metrics.root_mean_squared_error(actual[i], predicted[i]), rows
            ),
            "mae": _value(lambda i: metrics.mean_absolute_error(actual[i], predicted[i]), rows),
            "r2": _value(lambda i: metrics.r2_score(actual[i], predicted[i]), rows),
        }
    }


def score_tabular(model: Any, test: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    frame = pd.read_parquet(test / "data.parquet")
    schema = model.schema
    predictions = model.predict(frame)
    if schema.task == "regression":
        actual = frame[schema.target].to_numpy(dtype="float64")
        return regression_metrics(actual, predictions.values), {
            "actual": actual,
            "predicted": predictions.values,
        }
    actual = encode_labels(frame[schema.target], schema.classes)
    known = actual >= 0
    return (
        classification_metrics(actual[known], predictions.probabilities[known], schema.classes),
        {"actual": actual[known], "probabilities": predictions.probabilities[known]},
    )


def score_images(model: Any, test: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from .vision import class_images, load_image

    classes = model.classes
    samples = class_images(test, classes)
    paths = [path for path, _ in samples]
    actual = [index for _, index in samples]
    probabilities = np.concatenate(
        [
            model.predict_proba([load_image(p) for p in paths[start : start + 256]])
            for start in range(0, len(paths), 256)
        ]
    )
    labels = np.asarray(actual)
    return classification_metrics(labels, probabilities, classes), {
        "actual": labels,
        "probabilities": probabilities,
    }


def main(args: argparse.Namespace) -> None:
    progress(STEP, 0, 3, "loading the model")
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpack_model(args.model, Path(scratch))
        model = load_model(folder)
        history_file = folder / "history.json"
        history = (
            json.loads(history_file.read_text(encoding="utf-8")) if history_file.is_file() else None
        )
        # Library versions and hardware of the training run, carried to the run's lineage.
        info_file = folder / "model-info.json"
        model_info = (
            json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else None
        )
    progress(STEP, 1, 3, "scoring the test split")
    if model.kind == "image":
        evaluation, scored = score_images(model, args.test)
    else:
        evaluation, scored = score_tabular(model, args.test)
    output: Path = args.output
    output.mkdir(parents=True, exist_ok=True)
    progress(STEP, 2, 3, "drawing plots")
    schema = model.schema
    importance = getattr(model, "feature_importance", {})
    plots = write_plots(output / "plots", schema, scored, importance, history)
    evaluation["modeldrop"] = {
        "task": schema.task,
        "target": schema.target,
        "classes": schema.classes,
        "positive_class": schema.classes[1]
        if schema.classes and len(schema.classes) == 2
        else None,
        "test_rows": len(scored["actual"]),
        "algorithm": model.algorithm,
        "feature_importance": importance,
        "plots": plots,
        "model_info": model_info,
    }
    (output / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    headline = {
        name: round(metric["value"], 4)
        for section in evaluation.values()
        for name, metric in section.items()
        if isinstance(metric, dict) and "value" in metric
    }
    log(f"test metrics: {headline}")
    progress(STEP, 3, 3, f"{len(scored['actual'])} test rows scored")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.processing_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
