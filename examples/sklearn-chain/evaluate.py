"""Processing step: score the trained model on prepare's test rows.

Unpacks /opt/ml/processing/model/model.tar.gz, sends the test rows (raw features, no header,
as batch transform would) through inference.py's handlers, and writes
/opt/ml/processing/evaluation/evaluation.json in SageMaker's model-quality layout::

    {"binary_classification_metrics": {
        "accuracy": {"value": 0.97, "standard_deviation": 0.016},
        "precision": {...}, "recall": {...}, "f1": {...}, "roc_auc": {...},
        "confusion_matrix": {"benign": {"benign": 70, "malignant": 1}, ...}}}

Malignant is the positive class. The accuracy's standard deviation is the binomial standard
error, sqrt(p (1 - p) / n).
"""

from __future__ import annotations

import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd
from inference import input_fn, model_fn, predict_fn
from sklearn import metrics

MODEL = Path("/opt/ml/processing/model/model.tar.gz")
TEST = Path("/opt/ml/processing/input/test/test.csv")
OUTPUT = Path("/opt/ml/processing/evaluation")
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage

TARGET = "diagnosis"


class Failure(Exception):
    """A problem with the inputs; its text is the job's failure reason."""


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


def main() -> int:
    test = pd.read_csv(TEST)
    with tempfile.TemporaryDirectory() as folder:
        unpack(MODEL, Path(folder))
        model = model_fn(folder)
    missing = [f for f in [*model["features"], TARGET] if f not in test.columns]
    if missing:
        raise Failure(f"test.csv lacks columns the model needs: {missing}")
    body = test[model["features"]].to_csv(index=False, header=False)
    predictions = predict_fn(input_fn(body, "text/csv"), model)
    classes = model["classes"]
    actual = test[TARGET].to_numpy()
    predicted = [classes.index(row["prediction"]) for row in predictions]
    positive = [row["probabilities"][classes[1]] for row in predictions]
    accuracy = metrics.accuracy_score(actual, predicted)
    matrix = metrics.confusion_matrix(actual, predicted, labels=[0, 1])
    evaluation = {
        "binary_classification_metrics": {
            "accuracy": {
                "value": accuracy,
                "standard_deviation": math.sqrt(accuracy * (1 - accuracy) / len(actual)),
            },
            "precision": {"value": metrics.precision_score(actual, predicted, zero_division=0)},
            "recall": {"value": metrics.recall_score(actual, predicted, zero_division=0)},
            "f1": {"value": metrics.f1_score(actual, predicted, zero_division=0)},
            "roc_auc": {"value": metrics.roc_auc_score(actual, positive)},
            "confusion_matrix": {
                classes[i]: {classes[j]: int(matrix[i, j]) for j in range(2)} for i in range(2)
            },
        }
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    found = evaluation["binary_classification_metrics"]
    print(
        f"{len(actual)} test rows: accuracy {accuracy:.4f}, f1 {found['f1']['value']:.4f},"
        f" roc_auc {found['roc_auc']['value']:.4f}"
    )
    return 0


def run() -> int:
    try:
        return main()
    except Failure as failure:
        print(f"evaluate failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run())
