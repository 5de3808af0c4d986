"""Inference handlers for the SageMaker XGBoost container in script mode (batch transform,
endpoints).

A request is CSV rows without a header and without the label (``text/csv``): the features in
the order of features.json (split's batch.csv is such a file); an empty field is a missing
value, which XGBoost handles itself. Each row's answer, by the ``accept`` type:

    application/jsonlines (what modeldrop's batch transform asks for), one line per row:
        {"prediction": "1", "probabilities": {"0": 0.08, "1": 0.92}}
    application/json: a list of those objects
    text/csv: prediction,probability of the first class,probability of the second
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb


def model_fn(model_dir: str) -> dict[str, Any]:
    folder = Path(model_dir)
    booster = xgb.Booster()
    # From bytes, so XGBoost reads the JSON format without guessing it from the file name.
    booster.load_model(bytearray((folder / "xgboost-model").read_bytes()))
    schema = json.loads((folder / "features.json").read_text(encoding="utf-8"))
    return {**schema, "booster": booster}


def input_fn(body: str | bytes, content_type: str) -> np.ndarray:
    if (content_type or "").split(";")[0].strip().lower() != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv rows")
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the request holds no rows")
    values = np.genfromtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=float)
    # One row or one column comes back 1-D (genfromtxt's ndmin needs numpy 1.23).
    return values.reshape(len(lines), -1)


def predict_fn(data: np.ndarray, model: dict[str, Any]) -> list[dict[str, Any]]:
    features = model["features"]
    if data.shape[1] != len(features):
        raise ValueError(
            f"each row needs {len(features)} values ({', '.join(features)}), not {data.shape[1]}"
        )
    positive = model["booster"].predict(xgb.DMatrix(data))
    negative_class, positive_class = model["classes"]
    return [
        {
            "prediction": positive_class if p >= 0.5 else negative_class,
            "probabilities": {
                negative_class: round(1 - float(p), 6),
                positive_class: round(float(p), 6),
            },
        }
        for p in positive
    ]


def output_fn(prediction: list[dict[str, Any]], accept: str) -> str:
    media_type = (accept or "").split(";")[0].strip().lower()
    if media_type in ("application/jsonlines", "*/*", ""):
        return "".join(json.dumps(row) + "\n" for row in prediction)
    if media_type == "application/json":
        return json.dumps(prediction)
    if media_type == "text/csv":
        return "".join(
            ",".join([row["prediction"], *(str(p) for p in row["probabilities"].values())]) + "\n"
            for row in prediction
        )
    raise ValueError(
        f"unsupported accept type {accept!r}; use application/jsonlines, application/json or text/csv"
    )
