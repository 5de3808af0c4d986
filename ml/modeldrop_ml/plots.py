"""The evaluation plots, as PNG files small enough to embed in the run's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn import metrics

from .schema import DatasetSchema

MAX_POINTS = 5_000
TOP_FEATURES = 20


def _save(figure: Any, folder: Path, name: str, written: list[str]) -> None:
    figure.tight_layout()
    figure.savefig(folder / f"{name}.png", dpi=100)
    plt.close(figure)
    written.append(f"{name}.png")


def _confusion(
    folder: Path, actual: np.ndarray, predicted: np.ndarray, classes: list[str], written: list[str]
) -> None:
    matrix = metrics.confusion_matrix(actual, predicted, labels=list(range(len(classes))))
    size = min(4 + 0.4 * len(classes), 12)
    figure, axes = plt.subplots(figsize=(size, size))
    metrics.ConfusionMatrixDisplay(matrix, display_labels=classes).plot(
        ax=axes, colorbar=False, xticks_rotation=45
    )
    axes.set_title("Confusion matrix (test split)")
    _save(figure, folder, "confusion_matrix", written)


def _binary_curves(
    folder: Path, actual: np.ndarray, positive: np.ndarray, written: list[str]
) -> None:
    if len(np.unique(actual)) < 2:
        return
    figure, axes = plt.subplots(figsize=(5, 5))
    metrics.RocCurveDisplay.from_predictions(actual, positive, ax=axes)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set_title("ROC curve (test split)")
    _save(figure, folder, "roc", written)
    figure, axes = plt.subplots(figsize=(5, 5))
    metrics.PrecisionRecallDisplay.from_predictions(actual, positive, ax=axes)
    axes.set_title("Precision-recall (test split)")
    _save(figure, folder, "precision_recall", written)


def _regression(
    folder: Path, actual: np.ndarray, predicted: np.ndarray, written: list[str]
) -> None:
    picks = np.random.default_rng(0).permutation(len(actual))[:MAX_POINTS]
    actual, predicted = actual[picks], predicted[picks]
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(predicted, actual - predicted, s=6, alpha=0.5)
    axes.axhline(0, color="grey", linestyle="--")
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual - predicted")
    axes.set_title("Residuals (test split)")
    _save(figure, folder, "residuals", written)
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(actual, predicted, s=6, alpha=0.5)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    axes.plot([low, high], [low, high], color="grey", linestyle="--")
    axes.set_xlabel("actual")
    axes.set_ylabel("predicted")
    axes.set_title("Predicted vs actual (test split)")
    _save(figure, folder, "predicted_vs_actual", written)


def _importance(folder: Path, importance: dict[str, float], written: list[str]) -> None:
    top = list(importance.items())[:TOP_FEATURES]
    if not top:
        return
    names = [name for name, _ in reversed(top)]
    values = [value for _, value in reversed(top)]
    figure, axes = plt.subplots(figsize=(6, 1 + 0.3 * len(top)))
    axes.barh(names, values)
    axes.set_xlabel("share of importance")
    axes.set_title("Feature importance")
    _save(figure, folder, "feature_importance", written)


def _training_curve(folder: Path, history: dict[str, Any], written: list[str]) -> None:
    figure, axes = plt.subplots(figsize=(6, 4))
    if history.get("rounds"):
        rounds = history["rounds"]
        x = [item["round"] for item in rounds]
        axes.plot(x, [item["train"] for item in rounds], label="train")
        axes.plot(x, [item["validation"] for item in rounds], label="validation")
        axes.axvline(
            history.get("best_round", x[-1]), color="grey", linestyle="--", label="best round"
        )
        axes.set_xlabel("boosting round")
        axes.set_ylabel(history.get("metric", ""))
    elif history.get("epochs"):
        epochs = history["epochs"]
        x = [item["epoch"] for item in epochs]
        axes.plot(x, [item["train_loss"] for item in epochs], label="train loss")
        axes.plot(x, [item["validation_loss"] for item in epochs], label="validation loss")
        axes.set_xlabel("epoch")
        axes.set_ylabel("cross-entropy")
    else:
        plt.close(figure)
        return
    axes.legend()
    axes.set_title("Training curve")
    _save(figure, folder, "training_curve", written)


def write_plots(
    folder: Path,
    schema: DatasetSchema,
    scored: dict[str, np.ndarray],
    importance: dict[str, float],
    history: dict[str, Any] | None,
) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if schema.task == "regression":
        _regression(folder, scored["actual"], scored["predicted"], written)
    else:
        classes = schema.classes or []
        probabilities = scored["probabilities"]
        _confusion(folder, scored["actual"], probabilities.argmax(axis=1), classes, written)
        if len(classes) == 2:
            _binary_curves(folder, scored["actual"], probabilities[:, 1], written)
    _importance(folder, importance, written)
    if history:
        _training_curve(folder, history, written)
    return written
