"""A scikit-learn training script in SageMaker script mode, as an SDK user writes one."""

import argparse
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    # The training toolkit passes a one-letter hyperparameter with one dash (-C 0.5).
    parser.add_argument("-C", type=float, default=1.0)
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    return parser.parse_args(argv)


def main(args):
    frame = pd.read_csv(os.path.join(args.train, "train.csv"))
    features, target = frame.drop(columns="y"), frame["y"]
    model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(features, target)
    print(f"train-accuracy={model.score(features, target):.3f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))


if __name__ == "__main__":
    main(parse_args())
