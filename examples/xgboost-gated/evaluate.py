"""Processing step: score the trained booster on split's test rows.

Unpacks /opt/ml/processing/model/model.tar.gz, sends the test rows' features (no header, as
batch transform would) through inference.py's handlers, and writes
/opt/ml/processing/evaluation/evaluation.json in SageMaker's model-quality layout::

    {"binary_classification_metrics": {
        "accuracy": {"value": 0.9, "standard_deviation": 0.027},
        "precision": {...}, "recall": {...}, "f1": {...}, "roc_auc": {...},
        "confusion_matrix": {"0": {"0": 55, "1": 5}, "1": {...}}}}

The second class is the positive one. The accuracy's standard deviation is the binomial
standard error, sqrt(p (1 - p) / n). modeldrop.json's gate reads
binary_classification_metrics.accuracy.value. Only numpy is used, so the step runs in any
image that runs XGBoost.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from inference import input_fn, model_fn, predict_fn

FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage


class Failure(Exception):
    """A problem with the inputs; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate the XGBoost model.")
    parser.add_argument("--model", type=Path, default=Path("/opt/ml/processing/model/model.tar.gz"))
    parser.add_argument("--test", type=Path, default=Path("/opt/ml/processing/input/test"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/evaluation"))
    return parser.parse_args(argv)


def unpack(archive: Path, destination: Path) -> None:
    if not archive.is_file():
        raise Failure(f"the trained model {archive} is missing")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, filter="data")
        else:  # Pythons before 3.8.17 / 3.9.17 / 3.10.12 / 3.11.4 have no extraction filters
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise Failure(f"model.tar.gz holds an unsafe path: {member.name}")
            tar.extractall(destination)


def roc_auc(actual: np.ndarray, score: np.ndarray) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    positives, negatives = score[actual == 1], score[actual == 0]
    wins = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((wins + 0.5 * ties) / (len(positives) * len(negatives)))


def main(args: argparse.Namespace) -> int:
    files = sorted(args.test.glob("*.csv"))
    if not files:
        raise Failure(f"no .csv files in {args.test}; is the input split/test?")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    with tempfile.TemporaryDirectory() as folder:
        unpack(args.model, Path(folder))
        model = model_fn(folder)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows[:, 1:])
    predictions = predict_fn(input_fn(body, "text/csv"), model)
    classes = model["classes"]
    actual = rows[:, 0].astype(int)
    predicted = np.array([classes.index(row["prediction"]) for row in predictions])
    positive = np.array([row["probabilities"][classes[1]] for row in predictions])

    matrix = {
        classes[a]: {classes[p]: int(((actual == a) & (predicted == p)).sum()) for p in (0, 1)}
        for a in (0, 1)
    }
    true_positive = matrix[classes[1]][classes[1]]
    precision = true_positive / max(1, int((predicted == 1).sum()))
    recall = true_positive / max(1, int((actual == 1).sum()))
    accuracy = float((predicted == actual).mean())
    found = {
        "accuracy": {
            "value": accuracy,
            "standard_deviation": math.sqrt(accuracy * (1 - accuracy) / len(actual)),
        },
        "precision": {"value": precision},
        "recall": {"value": recall},
        "f1": {"value": 2 * precision * recall / (precision + recall) if true_positive else 0.0},
        "confusion_matrix": matrix,
    }
    if 0 < actual.sum() < len(actual):
        found["roc_auc"] = {"value": roc_auc(actual, positive)}
    args.output.mkdir(parents=True, exist_ok=True)
    evaluation = {"binary_classification_metrics": found}
    (args.output / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    print(f"{len(actual)} test rows: accuracy {accuracy:.4f}")
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"evaluate failed: {failure}", file=sys.stderr)
        try:
            FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
            FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        except OSError:
            pass  # outside a container there may be no /opt/ml to write to
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
