"""Serving handlers for batch transform, in the SageMaker PyTorch inference toolkit's shape.

Requests:

* ``text/csv`` — rows as the user has them: any sniffable delimiter, quoted fields, missing
  values as empty/NA/?/NaN, categories as text. With a header row (names in any order) or
  without one (then each row holds every input column of the training file except the target,
  in the training file's order, and nothing else). Whether the first row is a header does not
  depend on its names being this model's: see ``_is_header``.
* ``application/jsonlines`` (or ``application/json``: one object, or a list of objects) — one
  object per row, keyed by column name; a row may leave a key out (a missing value), but each
  feature column must be named by some row of the request.
* ``image/jpeg``, ``image/png``, ``application/x-image`` — one image.

Columns, the decision: a request must carry every feature column the model uses (by name, or
by position without a header). A missing one fails the request, saying ``missing columns: …``
and which of its columns the model does not know (``extra columns: …``). Columns beyond the
features are ignored when every feature is there, as SageMaker users expect of an id or the
target travelling with the rows. Filling a missing column with empty values instead would
predict from nothing and hide a request meant for another model or version.

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

from .artifact import ARTIFACT
from .errors import DatasetRejected
from .tables import DELIMITERS, MISSING_MARKERS, unique_names

CSV = "text/csv"
JSON_LINES = "application/jsonlines"
JSON = "application/json"
IMAGE_TYPES = ("image/jpeg", "image/png", "application/x-image")
LISTED_NAMES = 10
_MISSING = frozenset(MISSING_MARKERS)


class InvalidInput(ValueError):
    """The request cannot be read as rows for this model; the message says why.

    ``line`` is the request's line at fault, when there is one (batch transform turns it into
    the input file's line).
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line is not None else reason)
        self.reason = reason
        self.line = line


class UnsupportedFormat(InvalidInput):
    """The request's content type or accept type is not one these handlers read or write (the
    inference toolkit's UnsupportedFormatError: an endpoint answers 415)."""


@dataclass
class Rows:
    """Parsed request rows, before they are matched to the model's columns."""

    records: list[list[str]] | None = None  # CSV cells
    objects: list[dict[str, Any]] | None = None  # JSON lines
    images: list[Any] | None = None  # PIL images
    lines: list[int] | None = None  # the request line each record or object starts on


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


# --- reading requests -----------------------------------------------------------------------


def _csv_rows(text: str) -> Rows:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidInput("the request holds no rows")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[list[str]] = []
    starts: list[int] = []
    try:
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if any(cell.strip() for cell in row):
                records.append(row)
                starts.append(start)
    except csv.Error as error:  # a NUL byte, an oversized field
        raise InvalidInput(f"the request is not readable CSV: {error}", reader.line_num) from None
    if not records:
        raise InvalidInput("the request holds no rows, only empty fields")
    return Rows(records=records, lines=starts)


def _json_rows(text: str, media: str) -> Rows:
    objects: list[Any] = []
    starts: list[int] = []
    if media == JSON:
        try:
            parsed = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise InvalidInput(f"the request is not valid JSON: {error}") from None
        objects = parsed if isinstance(parsed, list) else [parsed]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except (json.JSONDecodeError, RecursionError) as error:
                raise InvalidInput(f"the row is not valid JSON: {error}", number) from None
            starts.append(number)
    for position, item in enumerate(objects):
        if not isinstance(item, dict):
            line = starts[position] if starts else None
            raise InvalidInput("each JSON row must be an object keyed by column name", line)
    return Rows(objects=objects, lines=starts or None)


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Rows:
    media = _media_type(request_content_type) or CSV
    if media == CSV:
        return _csv_rows(_text(request_body))
    if media in (JSON_LINES, "application/jsonl", JSON):
        return _json_rows(_text(request_body).strip(), media)
    if media in IMAGE_TYPES:
        from .vision import load_image

        data = request_body.encode() if isinstance(request_body, str) else request_body
        try:
            return Rows(images=[load_image(data)])
        except DatasetRejected as error:
            raise InvalidInput(str(error)) from error
    raise UnsupportedFormat(
        f"content type {request_content_type!r} is not supported; use text/csv, application/jsonlines, "
        "image/jpeg or image/png"
    )


# --- matching rows to the model's columns ---------------------------------------------------


def _names(names: list[str]) -> str:
    """At most LISTED_NAMES names, then how many more (as the model registry lists them)."""
    shown = ", ".join(names[:LISTED_NAMES])
    more = len(names) - LISTED_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_value(cell: str) -> bool:
    return cell.strip() not in _MISSING


def _is_header(first: list[str], rest: list[list[str]], schema: Any) -> bool:
    """Whether the request's first CSV row names columns rather than holding values.

    The names need not be this model's: a header from another dataset is still a header, and
    is answered with the columns missing and extra, not as a row of the wrong width.

    * It names every feature, or a text cell in it is a column the model knows: a header.
    * A cell in it is a number: values (names are not numbers, unless the model's own).
    * Only text: a header when, at a position where it holds text, every row below holds a
      number; in a request of one row, when the model reads a number at such a position.
    """
    cells = [cell.strip() for cell in first]
    features = {feature.name for feature in schema.features}
    known = {*schema.input_columns, *features, schema.target}
    if features <= set(cells):
        return True
    if any(_is_value(cell) and not _is_number(cell) and cell in known for cell in cells):
        return True
    if any(_is_value(cell) and _is_number(cell) for cell in cells):
        return False
    texts = [position for position, cell in enumerate(cells) if _is_value(cell)]
    if rest:
        for position in texts:
            below = [row[position] for row in rest if position < len(row)]
            values = [cell for cell in below if _is_value(cell)]
            if values and all(_is_number(cell) for cell in values):
                return True
        return False
    kinds = {feature.name: feature.kind for feature in schema.features}
    numeric = {
        position
        for position, name in enumerate(schema.input_columns)
        if kinds.get(name) == "numeric"
    }
    return any(position in numeric for position in texts)


def _mismatch(missing: list[str], extra: list[str], rule: str) -> str:
    found = f"missing columns: {_names(missing)}"
    if extra:
        found += f"; extra columns: {_names(extra)}"
    return (
        f"the columns do not match this model's: {found}. {rule} Other columns are ignored. "
        "Was the request meant for another model or version?"
    )


def _unknown(names: list[str], schema: Any) -> list[str]:
    """The names the training file did not have (the target and dropped columns it had)."""
    known = {*schema.input_columns, schema.target}
    return [name for name in names if name not in known]


def _csv_frame(rows: Rows, schema: Any) -> pd.DataFrame:
    records = rows.records or []
    lines = rows.lines or list(range(1, len(records) + 1))
    first, rest = records[0], records[1:]
    headerless = not _is_header(first, rest, schema)
    if headerless:
        header, body, body_lines = list(schema.input_columns), records, lines
    else:
        header, _ = unique_names(first)  # cleaned as training cleaned the file's header
        missing = [feature.name for feature in schema.features if feature.name not in header]
        if missing:
            rule = "The header row must name every feature column the model uses."
            raise InvalidInput(_mismatch(missing, _unknown(header, schema), rule), lines[0])
        body, body_lines = rest, lines[1:]
    for row, line in zip(body, body_lines, strict=True):
        if len(row) == len(header):
            continue
        if headerless:
            raise InvalidInput(
                f"rows without a header must hold {len(header)} fields, the input columns of "
                f"the training file in order ({_names(header)}); this row holds {len(row)}. "
                "Or send a header row naming the columns.",
                line,
            )
        raise InvalidInput(
            f"the row holds {len(row)} fields, but the header row names {len(header)}", line
        )
    # Missing markers become None before the frame is built (<NA> in a string column): the same
    # cells DataFrame.replace would change, at a fraction of its cost on the few rows of a request.
    cells = [[None if cell in _MISSING else cell for cell in row] for row in body]
    return pd.DataFrame(cells, columns=header, dtype="string")


def _json_frame(rows: Rows, schema: Any) -> pd.DataFrame:
    objects = rows.objects or []
    named = list(dict.fromkeys(key for item in objects for key in item))
    missing = [feature.name for feature in schema.features if feature.name not in named]
    if objects and missing:
        rule = "Some row must name each feature column (null for a missing value)."
        raise InvalidInput(_mismatch(missing, _unknown(named, schema), rule))
    for position, item in enumerate(objects):
        for feature in schema.features:
            value = item.get(feature.name)
            if isinstance(value, dict | list):
                kind = "object" if isinstance(value, dict) else "array"
                raise InvalidInput(
                    f"column {feature.name!r} holds a JSON {kind}; each value must be a number, "
                    "text, true/false or null",
                    rows.lines[position] if rows.lines else None,
                )
    return pd.DataFrame.from_records(objects)


def _frame(rows: Rows, model: Any) -> pd.DataFrame:
    if rows.objects is not None:
        return _json_frame(rows, model.schema)
    return _csv_frame(rows, model.schema)


# --- predicting and answering ---------------------------------------------------------------


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


def output_content_type(accept: str | None) -> str:
    """What output_fn writes for ``accept``: JSON lines for any JSON type or none, else CSV."""
    media = _media_type(accept)
    if media in ("", "*/*", JSON_LINES, "application/jsonl", JSON):
        return JSON_LINES
    if media == CSV:
        return CSV
    raise UnsupportedFormat(
        f"accept type {accept!r} is not supported; use application/jsonlines or text/csv"
    )


def output_fn(prediction: list[dict[str, Any]], accept: str | None) -> str:
    if output_content_type(accept) == JSON_LINES:
        return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in prediction)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for record in prediction:
        probabilities = record.get("probabilities")
        writer.writerow([record["prediction"], *(probabilities.values() if probabilities else [])])
    return out.getvalue()
