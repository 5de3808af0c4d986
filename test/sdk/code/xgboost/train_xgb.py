"""An XGBoost training script in SageMaker script mode, as an SDK user writes one."""

import argparse
import os
import sys

import numpy as np
import xgboost as xgb


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-round", type=int, default=20)
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    return parser.parse_args(argv)


def matrix(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    return xgb.DMatrix(rows[:, :-1], label=rows[:, -1])


def main(args):
    train = matrix(os.path.join(args.train, "train.csv"))
    validation = matrix(os.path.join(args.validation, "validation.csv"))
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": args.max_depth}
    booster = xgb.train(
        params,
        train,
        num_boost_round=args.num_round,
        evals=[(train, "train"), (validation, "validation")],
    )
    # The name the SageMaker XGBoost container's serving code loads.
    booster.save_model(os.path.join(args.model_dir, "xgboost-model"))


if __name__ == "__main__":
    print("arguments: " + " ".join(sys.argv[1:]), flush=True)
    main(parse_args(sys.argv[1:]))
