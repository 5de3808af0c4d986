"""Processing step: score the trained model on extract's test images.

Unpacks /opt/ml/processing/model/model.tar.gz, sends every test image of metadata.csv through
inference.py's handlers (what batch transform runs), and writes
/opt/ml/processing/evaluation/evaluation.json in SageMaker's model-quality layout::

    {"multiclass_classification_metrics": {
        "accuracy": {"value": 0.93, "standard_deviation": 0.06},
        "weighted_f1": {"value": 0.93},
        "confusion_matrix": {"circles": {"circles": 7, "squares": 0}, ...}}}

The accuracy's standard deviation is the binomial standard error, sqrt(p (1 - p) / n).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path

from inference import input_fn, model_fn, predict_fn

FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage


class Failure(Exception):
    """A problem with the inputs; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Evaluate the image classifier.")
    parser.add_argument("--model", type=Path, default=Path("/opt/ml/processing/model/model.tar.gz"))
    parser.add_argument("--images", type=Path, default=Path("/opt/ml/processing/input/images"))
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


def weighted_f1(confusion: dict[str, dict[str, int]]) -> float:
    total = sum(sum(row.values()) for row in confusion.values())
    score = 0.0
    for name, row in confusion.items():
        support = sum(row.values())
        predicted = sum(other[name] for other in confusion.values())
        hits = row[name]
        if hits:
            precision, recall = hits / predicted, hits / support
            score += support * 2 * precision * recall / (precision + recall)
    return score / total if total else 0.0


def main(args: argparse.Namespace) -> int:
    metadata = args.images / "metadata.csv"
    if not metadata.is_file():
        raise Failure(f"no metadata.csv in {args.images}; is the input extract/images?")
    with metadata.open(newline="", encoding="utf-8") as file:
        test = [row for row in csv.DictReader(file) if row["split"] == "test"]
    if not test:
        raise Failure("metadata.csv has no test rows")
    with tempfile.TemporaryDirectory() as folder:
        unpack(args.model, Path(folder))
        model = model_fn(folder)
    classes = model["classes"]
    confusion = {actual: {predicted: 0 for predicted in classes} for actual in classes}
    for row in test:
        body = (args.images / row["path"]).read_bytes()
        prediction = predict_fn(input_fn(body, "application/x-image"), model)
        if row["label"] in confusion:  # a class the model never saw cannot be scored
            confusion[row["label"]][prediction["label"]] += 1
    scored = sum(sum(row.values()) for row in confusion.values())
    accuracy = sum(confusion[name][name] for name in classes) / scored
    evaluation = {
        "multiclass_classification_metrics": {
            "accuracy": {
                "value": accuracy,
                "standard_deviation": math.sqrt(accuracy * (1 - accuracy) / scored),
            },
            "weighted_f1": {"value": weighted_f1(confusion)},
            "confusion_matrix": confusion,
        }
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    print(f"accuracy {accuracy:.4f} on {scored} test images")
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
