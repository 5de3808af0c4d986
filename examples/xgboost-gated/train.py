"""Training: an XGBoost booster on split's train rows, watched on its validation rows.

Reads the channels ``train`` and ``validation`` (SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION,
else /opt/ml/input/data/<name>): CSV files, label first, no header, and train's features.json.
Hyperparameters arrive as arguments: ``--num-round 100 --max-depth 4 --eta 0.2``. Saves to
SM_MODEL_DIR (/opt/ml/model):

    xgboost-model    the Booster in XGBoost's JSON model format, which the XGBoost that
                     trained it and newer ones read faithfully (1.7 reads a 3.x model's
                     base score wrongly, so train and serve with the same image)
    features.json    the feature names in column order and the classes, for inference.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import xgboost as xgb

FAILURE_FILE = Path("/opt/ml/output/failure")  # SageMaker shows it as the job's FailureReason


class Failure(Exception):
    """A problem with the data or hyperparameters; its text is the job's failure reason."""


def channel(name: str) -> Path:
    return Path(os.environ.get(f"SM_CHANNEL_{name.upper()}", f"/opt/ml/input/data/{name}"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train an XGBoost binary classifier.")
    parser.add_argument("--num-round", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--eta", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train", type=Path, default=channel("train"))
    parser.add_argument("--validation", type=Path, default=channel("validation"))
    parser.add_argument(
        "--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    )
    return parser.parse_args(argv)


def read_rows(folder: Path) -> xgb.DMatrix:
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise Failure(f"no .csv files in the channel folder {folder}")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return xgb.DMatrix(rows[:, 1:], label=rows[:, 0])


def main(args: argparse.Namespace) -> int:
    if args.num_round < 1 or args.max_depth < 1 or not 0 < args.eta <= 1:
        raise Failure("num-round and max-depth must be at least 1, and eta in (0, 1]")
    schema = args.train / "features.json"
    if not schema.is_file():
        raise Failure(f"no features.json in the train channel ({args.train}); is it split/train?")
    train, validation = read_rows(args.train), read_rows(args.validation)
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "error"],
        "max_depth": args.max_depth,
        "eta": args.eta,
        "seed": args.seed,
    }
    # Prints "[round]  train-logloss:…  validation-error:…", the lines SageMaker's XGBoost
    # metric definitions read.
    booster = xgb.train(
        params,
        train,
        num_boost_round=args.num_round,
        evals=[(train, "train"), (validation, "validation")],
        verbose_eval=10,
    )
    args.model_dir.mkdir(parents=True, exist_ok=True)
    (args.model_dir / "xgboost-model").write_bytes(bytes(booster.save_raw(raw_format="json")))
    shutil.copy(schema, args.model_dir / "features.json")
    print(f"saved xgboost-model ({args.num_round} rounds) to {args.model_dir}")
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"train failed: {failure}", file=sys.stderr)
        try:
            FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
            FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        except OSError:
            pass  # outside a container there may be no /opt/ml to write to
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
