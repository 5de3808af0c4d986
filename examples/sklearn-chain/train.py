"""Training: logistic regression on normalize's rows, saved with the normalizer it needs.

Reads the channels SageMaker puts under /opt/ml/input/data (the names are modeldrop.json's
``train.channels``):

    /opt/ml/input/data/train/train.csv                  normalized features, then diagnosis
    /opt/ml/input/data/normalizer/normalizer.json       how raw features were normalized

and the hyperparameters as arguments (``--c 1.0 --max-iter 1000``). Saves
/opt/ml/model/model.joblib: the fitted model together with the medians, means and scales, so
the model takes raw feature rows (inference.py applies them) and needs nothing saved elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression

TRAIN = Path("/opt/ml/input/data/train/train.csv")
NORMALIZER = Path("/opt/ml/input/data/normalizer/normalizer.json")
MODEL_DIR = Path("/opt/ml/model")
FAILURE_FILE = Path("/opt/ml/output/failure")  # SageMaker shows it as the job's FailureReason

TARGET = "diagnosis"
CLASSES = ["benign", "malignant"]  # clean's 0 and 1


class Failure(Exception):
    """A problem with the data or hyperparameters; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a logistic regression.")
    # The SageMaker training toolkit passes a one-letter hyperparameter as `-c`, longer ones
    # as `--max-iter`: accept both spellings.
    parser.add_argument(
        "-c", "--c", type=float, default=1.0, help="inverse regularisation strength"
    )
    parser.add_argument("--max-iter", type=int, default=1000)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    if args.c <= 0:
        raise Failure(f"--c must be above 0, not {args.c}")
    train = pd.read_csv(TRAIN)
    normalizer = json.loads(NORMALIZER.read_text(encoding="utf-8"))
    features = normalizer["features"]
    missing = [f for f in [*features, TARGET] if f not in train.columns]
    if missing:
        raise Failure(f"train.csv lacks columns the normalizer names: {missing}")
    model = LogisticRegression(C=args.c, max_iter=args.max_iter)
    model.fit(train[features].to_numpy(), train[TARGET].to_numpy())
    accuracy = model.score(train[features].to_numpy(), train[TARGET].to_numpy())
    print(f"train_accuracy={accuracy:.4f} rows={len(train)} features={len(features)}")
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    joblib.dump({**normalizer, "classes": CLASSES, "model": model}, MODEL_DIR / "model.joblib")
    print(f"saved {MODEL_DIR / 'model.joblib'}")
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"train failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
