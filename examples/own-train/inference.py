"""Serving the model train.py saved: CSV rows as modeldrop's preprocess writes transform/test.csv
(no header, dataset.json's input_columns), answered as JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from train import as_text


def model_fn(model_dir: str) -> dict:
    folder = Path(model_dir)
    return {
        "pipeline": joblib.load(folder / "model.joblib"),
        "dataset": json.loads((folder / "dataset.json").read_text()),
    }


def input_fn(body: str | bytes, content_type: str) -> pd.DataFrame:
    if content_type.split(";")[0].strip() != "text/csv":
        raise ValueError(f"send text/csv rows, not {content_type}")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return io.StringIO(text)  # read in predict_fn, which knows the columns


def predict_fn(data: io.StringIO, model: dict) -> np.ndarray:
    dataset = model["dataset"]
    rows = pd.read_csv(data, header=None, names=dataset["input_columns"])
    rows = as_text(rows, dataset)
    pipeline = model["pipeline"]
    if dataset["task"] == "regression":
        return pipeline.predict(rows)
    return pipeline.predict_proba(rows)


def output_fn(prediction: np.ndarray, accept: str) -> str:
    lines = [json.dumps(np.asarray(row).tolist()) for row in prediction]
    return "\n".join(lines) + "\n"
