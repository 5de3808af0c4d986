"""Inference handlers for the SageMaker scikit-learn serving toolkit (batch transform, endpoints).

A request is CSV rows without a header (``text/csv``): the features in the order of the
model's ``features`` (prepare's batch.csv is such a file), raw as clean writes them, not
normalized; an empty field is a missing value. Each row's answer, by the ``accept`` type:

    application/jsonlines (what modeldrop's batch transform asks for), one line per row:
        {"prediction": "malignant", "probabilities": {"benign": 0.03, "malignant": 0.97}}
    application/json: a list of those objects
    text/csv: prediction,probability of benign,probability of malignant
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd


def model_fn(model_dir: str) -> dict[str, Any]:
    return joblib.load(Path(model_dir) / "model.joblib")


def input_fn(body: str | bytes, content_type: str) -> pd.DataFrame:
    if (content_type or "").split(";")[0].strip().lower() != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv rows")
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    rows = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    return rows.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))


def predict_fn(data: pd.DataFrame, model: dict[str, Any]) -> list[dict[str, Any]]:
    features = model["features"]
    if data.shape[1] != len(features):
        raise ValueError(
            f"each row needs {len(features)} values ({', '.join(features)}), not {data.shape[1]}"
        )
    raw = data.to_numpy(dtype=float)
    filled = np.where(np.isnan(raw), np.asarray(model["medians"]), raw)
    normalized = (filled - np.asarray(model["means"])) / np.asarray(model["scales"])
    probabilities = model["model"].predict_proba(normalized)
    classes = model["classes"]
    return [
        {
            "prediction": classes[int(np.argmax(row))],
            "probabilities": {name: round(float(row[i]), 6) for i, name in enumerate(classes)},
        }
        for row in probabilities
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
