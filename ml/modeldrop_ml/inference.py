"""Serving handlers for batch transform, in the SageMaker PyTorch inference toolkit's shape.

Requests:

* ``text/csv`` — rows as the user has them: any sniffable delimiter, quoted fields, missing
  values as empty/NA/?/NaN, categories as text. With a header (a first row naming every
  feature column, in any order; other columns, the target included, are ignored) or without
  one (then each row holds every input column of the training file except the target, in
  the training file's order).
* ``application/jsonlines`` (or ``application/json``: one object, or a list of objects) — one
  object per row, keyed by column name.
* ``image/jpeg``, ``image/png``, ``application/x-image`` — one image.

Responses, one per row, in request order:

* ``application/jsonlines`` (default) — ``{"prediction": "yes", "probabilities": {"no": 0.1,
  "yes": 0.9}}``, or ``{"prediction": 12.3}`` for regression.
* ``text/csv`` — ``label,probability of each class in sorted class order`` or the value.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .tables import DELIMITERS, MISSING_MARKERS

ARTIFACT = "model.joblib"
CSV = "text/csv"
JSON_LINES = "application/jsonlines"
JSON = "application/json"
IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")


class InvalidInput(ValueError):
    """The request cannot be read as rows for this model; the message says why."""


@dataclass
class Rows:
    """Parsed request rows, before they are matched to the model's columns."""

    records: list[list[str]] | None = None  # CSV cells
    objects: list[dict[str, Any]] | None = None  # JSON lines
    images: list[Any] | None = None  # PIL images


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the request body is not UTF-8 text: {error}") from None


def model_fn(model_dir: str) -> Any:
    return joblib.load(Path(model_dir) / ARTIFACT)


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Rows:
    media = _media_type(request_content_type) or CSV
    if media == CSV:
        text = _text(request_body)
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise InvalidInput("the request holds no rows")
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
        records = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
        return Rows(records=records)
    if media in (JSON_LINES, "application/jsonl", JSON):
        text = _text(request_body).strip()
        try:
            if media == JSON:
                parsed = json.loads(text)
                objects = parsed if isinstance(parsed, list) else [parsed]
            else:
                objects = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise InvalidInput(f"the request is not valid JSON: {error}") from None
        if not all(isinstance(item, dict) for item in objects):
            raise InvalidInput("each JSON row must be an object keyed by column name")
        return Rows(objects=objects)
    if media in IMAGE_TYPES:
        from .vision import load_image

        data = request_body.encode() if isinstance(request_body, str) else request_body
        return Rows(images=[load_image(data)])
    raise InvalidInput(
        f"content type {request_content_type!r} is not supported; use text/csv, application/jsonlines, "
        "image/jpeg or image/png"
    )


def _frame(rows: Rows, model: Any) -> pd.DataFrame:
    schema = model.schema
    if rows.objects is not None:
        return pd.DataFrame.from_records(rows.objects)
    records = rows.records or []
    needed = {feature.name for feature in schema.features}
    first = [cell.strip() for cell in records[0]]
    if needed <= set(first):  # a header names every feature; other columns are ignored
        header, body = first, records[1:]
    else:
        header, body = schema.input_columns, records
        widths = {len(row) for row in body}
        if widths != {len(header)}:
            raise InvalidInput(
                f"rows without a header must hold the {len(header)} input columns of the training file "
                f"({', '.join(header[:10])}{' …' if len(header) > 10 else ''}); got rows of "
                f"{', '.join(str(w) for w in sorted(widths))} fields. Or send a header row."
            )
    frame = pd.DataFrame(body, columns=header, dtype="string")
    return frame.replace(dict.fromkeys(MISSING_MARKERS, pd.NA))


def predict_fn(data: Rows, model: Any) -> list[dict[str, Any]]:
    if data.images is not None:
        if model.kind != "image":
            raise InvalidInput("this model predicts from table rows, not images")
        probabilities = model.predict_proba(data.images)
        return _classified(model.classes, probabilities)
    if model.kind == "image":
        raise InvalidInput("this model predicts from images; send image/jpeg or image/png")
    frame = _frame(data, model)
    if frame.empty:
        return []
    predictions = model.predict(frame)
    if predictions.values is not None:
        return [{"prediction": float(value)} for value in predictions.values]
    return _classified(model.schema.classes, predictions.probabilities)


def _classified(classes: list[str], probabilities: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "prediction": classes[int(np.argmax(row))],
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(classes, row, strict=True)
            },
        }
        for row in probabilities
    ]


def output_fn(prediction: list[dict[str, Any]], accept: str | None) -> str:
    media = _media_type(accept)
    if media in ("", "*/*", JSON_LINES, "application/jsonl", JSON):
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in prediction)
    if media == CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for record in prediction:
            probabilities = record.get("probabilities")
            writer.writerow(
                [record["prediction"], *(probabilities.values() if probabilities else [])]
            )
        return out.getvalue()
    raise InvalidInput(
        f"accept type {accept!r} is not supported; use application/jsonlines or text/csv"
    )
