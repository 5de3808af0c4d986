"""Your own model on modeldrop's preprocessing and evaluation.

With no `processing` and no `evaluate` in modeldrop.json, modeldrop's preprocess splits the
dropped table and this script reads its `train` and `validation` channels (Parquet plus
dataset.json, see ml/DATA-CONTRACT.md); modeldrop's evaluation then scores the model through
inference.py on the held-out rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument(
        "--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    )
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    return parser.parse_args(argv)


def model_for(dataset: dict, args: argparse.Namespace) -> Pipeline:
    numeric = [f["name"] for f in dataset["features"] if f["kind"] == "numeric"]
    other = [f["name"] for f in dataset["features"] if f["kind"] in ("categorical", "boolean")]
    columns = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="median"), numeric),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                other,
            ),
        ]
    )
    estimator = (
        HistGradientBoostingRegressor
        if dataset["task"] == "regression"
        else HistGradientBoostingClassifier
    )(max_iter=args.max_iter, learning_rate=args.learning_rate, random_state=0)
    return Pipeline([("columns", columns), ("model", estimator)])


def as_text(frame: pd.DataFrame, dataset: dict) -> pd.DataFrame:
    """Categories and booleans as the strings batch transform sends them."""
    for feature in dataset["features"]:
        if feature["kind"] in ("categorical", "boolean"):
            frame[feature["name"]] = frame[feature["name"]].map(
                lambda v: None if pd.isna(v) else str(v).lower()
            )
    return frame


def main(args: argparse.Namespace) -> None:
    train = Path(args.train)
    dataset = json.loads((train / "dataset.json").read_text())
    rows = pd.read_parquet(train / "data.parquet")
    target = dataset["target"]
    features = rows.drop(columns=[target])
    model = model_for(dataset, args).fit(as_text(features, dataset), rows[target])
    out = Path(args.model_dir)
    joblib.dump(model, out / "model.joblib")
    shutil.copy(train / "dataset.json", out / "dataset.json")
    print(f"trained on {len(rows)} rows, {len(features.columns)} features")


if __name__ == "__main__":
    main(parse_args())
