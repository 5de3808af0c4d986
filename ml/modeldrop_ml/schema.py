"""What a table's columns are, which one to predict, and what kind of task that is.

The rules, in the order they are applied (each decision is recorded with its reason):

* **Target**: the ``target`` option; else the first column named ``target``, ``label``,
  ``labels``, ``class`` or ``y`` (case, spaces, dashes and underscores ignored); else the last
  column.
* **Task**: the ``task`` option; else a text or true/false target is ``binary`` with two
  values and ``multiclass`` with more; a numeric target with only whole numbers is ``binary``
  with two values and ``multiclass`` with 3–20 values (when that is at most half the rows);
  any other numeric target is ``regression``.
* **Columns dropped**: listed in ``ignoreColumns``; empty; constant; ID-like (text distinct in
  at least 90% of the rows, or whole numbers as nearly unique that are named like an id —
  ``id``, ``row_id``, ``PassengerId`` — or count up row by row); free text (mostly unique text
  of long values). Text with many levels (cities, zip codes) is kept: the boosters split on
  its levels natively and the scikit-learn learners target-encode it out of fold.
* **Column kinds** kept: numeric, categorical (text), boolean, datetime (expanded into day
  number, month and weekday). A text column that is at least 95% numbers is read as numeric;
  its few non-numbers become missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DatasetRejected, InvalidOption

TARGET_NAMES = ("target", "label", "labels", "class", "y")
ID_NAME = re.compile(r"(^|[_\s.-])(id|uuid|guid|key|index|idx|row|rownum)$|^id[_\s.-]", re.I)
MAX_CLASSES_FROM_NUMBERS = 20
MIN_ROWS = 20
MIN_ROWS_PER_CLASS = 5
MAX_MISSING_TARGET_FRACTION = 0.05
MOSTLY_NUMERIC = 0.95
# A column whose values are distinct in at least this share of the rows is near-unique.
NEAR_UNIQUE = 0.9
# camelCase and PascalCase ids: PassengerId, customerID, orderKey
ID_SUFFIX = re.compile(r"[a-z0-9](Id|ID|Key|Idx)$")
# text with more levels than this is a high-cardinality categorical (said so in its reason)
MANY_LEVELS = 100

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2")
TABULAR_ALGORITHMS = ("xgboost", "lightgbm", "random_forest", "extra_trees", "linear")


def check_metric(metric: str, task: str) -> None:
    """A metric the task's evaluation reports, or InvalidOption naming the ones it does."""
    allowed = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    if metric not in allowed:
        raise InvalidOption(
            "metric", f"{metric} does not apply to {task}; use one of {', '.join(allowed)}"
        )


@dataclass
class Feature:
    name: str
    kind: str  # numeric | categorical | boolean | datetime
    categories: list[str] | None = None


@dataclass
class DatasetSchema:
    """What training and inference agree on; written as dataset.json beside every split."""

    task: str
    target: str
    input_columns: list[str]
    features: list[Feature]
    classes: list[str] | None
    dropped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetSchema:
        features = [Feature(**feature) for feature in data["features"]]
        return cls(**{**data, "features": features})


@dataclass
class Inference:
    what: str
    value: Any
    why: str


def _normalised(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name).lower()


def choose_target(columns: list[str], option: str | None) -> Inference:
    if option is not None:
        if option not in columns:
            shown = ", ".join(columns[:20]) + (" …" if len(columns) > 20 else "")
            raise InvalidOption(
                "target", f"column {option!r} is not in the file; its columns are: {shown}"
            )
        return Inference("target", option, "set by the target option")
    for wanted in TARGET_NAMES:
        for column in columns:
            if _normalised(column) == wanted:
                return Inference(
                    "target", column, f"the column is named like a target ({wanted!r})"
                )
    return Inference(
        "target", columns[-1], "no column is named target/label/class/y, so the last column"
    )


def _is_text(kind: pa.DataType) -> bool:
    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)
    )


def _whole_numbers(column: pa.ChunkedArray) -> bool:
    if pa.types.is_integer(column.type):
        return True
    if not pa.types.is_floating(column.type):
        return False
    values = column.drop_null()
    return bool(pc.all(pc.equal(pc.floor(values), values)).as_py() is not False)


def label_text(value: Any) -> str:
    """Class labels are strings everywhere: 1.0 and 1 both become '1'."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def sorted_labels(values: list[Any]) -> list[str]:
    if all(
        isinstance(value, int | float | np.number) and not isinstance(value, bool)
        for value in values
    ):
        return [label_text(value) for value in sorted(values)]
    return sorted(label_text(value) for value in values)


def choose_task(target: pa.ChunkedArray, name: str, option: str | None) -> Inference:
    if target.null_count == len(target):
        raise DatasetRejected(
            f"the target column {name!r} is empty in every row; nothing to learn from."
        )
    if not countable(target.type):
        raise DatasetRejected(
            f"the target column {name!r} holds nested values ({target.type}); a target holds "
            "one class or number per row. Choose another target with the target option."
        )
    distinct = pc.count_distinct(target).as_py()
    rows = len(target) - target.null_count
    numeric = pa.types.is_integer(target.type) or pa.types.is_floating(target.type)
    if option is not None:
        if option == "image_classification":
            raise InvalidOption("task", "image_classification needs a zip of images, not a table")
        if option == "regression" and not numeric:
            raise InvalidOption(
                "task", f"regression needs a numeric target, but {name!r} holds text"
            )
        return Inference("task", option, "set by the task option")
    if not numeric:
        task = "binary" if distinct == 2 else "multiclass"
        return Inference(
            "task", task, f"target {name!r} holds {distinct} distinct non-numeric values"
        )
    if _whole_numbers(target):
        if distinct == 2:
            return Inference("task", "binary", f"target {name!r} holds two distinct whole numbers")
        if distinct <= MAX_CLASSES_FROM_NUMBERS and distinct <= rows / 2:
            return Inference(
                "task",
                "multiclass",
                f"target {name!r} holds {distinct} distinct whole numbers, so they are read as "
                "classes; set task=regression to predict them as a number",
            )
    return Inference("task", "regression", f"target {name!r} holds {distinct} distinct numbers")


def check_target(table: pa.Table, target: str, task: str) -> tuple[pa.Table, list[Inference]]:
    """Rejects unusable targets and drops the few unlabelled rows. Returns the labelled rows."""
    column = table.column(target)
    notes: list[Inference] = []
    rows = table.num_rows
    if column.null_count == rows:
        raise DatasetRejected(
            f"the target column {target!r} is empty in every row; nothing to learn from."
        )
    if pa.types.is_floating(column.type):
        infinite = pc.sum(pc.is_inf(column.drop_null())).as_py() or 0
        if infinite:
            raise DatasetRejected(
                f"the target column {target!r} holds {infinite} infinite value(s) (inf/-inf); fix or "
                "remove those rows."
            )
    missing = column.null_count
    if missing:
        if missing > MAX_MISSING_TARGET_FRACTION * rows:
            raise DatasetRejected(
                f"{missing} of {rows} rows ({missing / rows:.0%}) have no value (or NaN) in the target "
                f"column {target!r}; at most {MAX_MISSING_TARGET_FRACTION:.0%} may be missing. Fill "
                "them in, remove those rows, or choose another target."
            )
        table = table.filter(pc.is_valid(column))
        notes.append(
            Inference("unlabelled rows dropped", missing, f"no value in target {target!r}")
        )
    if table.num_rows < MIN_ROWS:
        raise DatasetRejected(
            f"only {table.num_rows} labelled rows; modeldrop needs at least {MIN_ROWS} to train, "
            "validate and test a model."
        )
    if task != "regression":
        counts = pc.value_counts(table.column(target)).to_pylist()
        if len(counts) < 2:
            only = label_text(counts[0]["values"]) if counts else "?"
            raise DatasetRejected(
                f"the target column {target!r} holds a single class ({only!r}); classification needs "
                "at least two."
            )
        if task == "binary" and len(counts) > 2:
            raise InvalidOption(
                "task", f"binary needs two classes, but {target!r} holds {len(counts)}"
            )
        rare = sorted(
            (c["counts"], label_text(c["values"]))
            for c in counts
            if c["counts"] < MIN_ROWS_PER_CLASS
        )
        if rare:
            shown = ", ".join(f"{label!r}: {count}" for count, label in rare[:10])
            raise DatasetRejected(
                f"too few rows to split class(es) {shown} of target {target!r} into train, validation "
                f"and test; each class needs at least {MIN_ROWS_PER_CLASS}. Add rows, merge rare "
                "classes, or remove them."
            )
    return table, notes


def _numeric_share(column: pa.ChunkedArray) -> tuple[float, list[str]]:
    """Share of non-missing text values that parse as numbers, and a few that do not."""
    counts = pc.value_counts(column.drop_null())
    values = pd.Series(counts.field("values").to_pylist(), dtype="string")
    weights = np.asarray(counts.field("counts"))
    parsed = pd.to_numeric(values, errors="coerce")
    ok = parsed.notna().to_numpy()
    total = weights.sum()
    share = float(weights[ok].sum() / total) if total else 0.0
    return share, values[~ok].head(5).tolist()


def countable(kind: pa.DataType) -> bool:
    """Whether Arrow can count the distinct values of a column of this type (not nested ones:
    a Parquet file may hold lists, structs and maps)."""
    return not (pa.types.is_nested(kind) or pa.types.is_null(kind))


def _column_kind(name: str, column: pa.ChunkedArray, rows: int) -> tuple[str | None, str]:
    """(kind, reason); kind None means dropped."""
    present = rows - column.null_count
    if present == 0:
        return None, "empty in every row"
    if not countable(column.type):
        return None, f"unsupported type {column.type} (nested values are not features)"
    distinct = pc.count_distinct(column).as_py()
    if distinct <= 1:
        return None, "constant (a single value)"
    kind = column.type
    if pa.types.is_boolean(kind):
        return "boolean", "true/false values"
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "datetime", "dates or timestamps"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        if pa.types.is_integer(kind) and _near_unique(distinct, present):
            share = (
                "unique to every row"
                if distinct == present
                else f"{distinct / present:.0%} distinct"
            )
            if named_like_id(name):
                return None, f"ID-like: whole numbers {share}, named like an id"
            steps = pc.pairwise_diff(column.combine_chunks()).drop_null()
            if len(steps) and pc.all(pc.greater(steps, 0)).as_py():
                return None, f"ID-like: whole numbers {share}, counting up row by row"
        return "numeric", "numbers"
    if _is_text(kind):
        share, odd = _numeric_share(column)
        if share >= MOSTLY_NUMERIC and share < 1:
            return "numeric", f"{share:.1%} numbers; non-numbers such as {odd} become missing"
        if share == 1:
            return "numeric", "numbers"
        if _near_unique(distinct, present) and present >= MIN_ROWS:
            lengths = pc.utf8_length(column.drop_null())
            mean_length = pc.mean(lengths).as_py() or 0
            if mean_length > 30:
                return None, "free text (unique, long values); text features are not supported yet"
            unique = (
                "unique to every row"
                if distinct == present
                else f"{distinct / present:.0%} distinct"
            )
            return None, f"ID-like: a text value {unique}"
        if distinct > MANY_LEVELS:
            return "categorical", (
                f"text with {distinct} distinct values: the boosters split on them natively, the "
                "other learners target-encode them (out of fold)"
            )
        return "categorical", f"text with {distinct} distinct values"
    return None, f"unsupported type {kind}"


def _near_unique(distinct: int, present: int) -> bool:
    return present > 1 and (distinct == present or distinct >= NEAR_UNIQUE * present)


def named_like_id(name: str) -> bool:
    return bool(ID_NAME.search(name) or ID_SUFFIX.search(name))


def infer_features(
    table: pa.Table, target: str, ignore: list[str]
) -> tuple[list[Feature], dict[str, str], list[Inference]]:
    unknown = [name for name in ignore if name not in table.column_names]
    if unknown:
        raise InvalidOption("ignoreColumns", f"column {unknown[0]!r} is not in the file")
    if target in ignore:
        raise InvalidOption("ignoreColumns", f"{target!r} is the target and cannot be ignored")
    features: list[Feature] = []
    dropped: dict[str, str] = {}
    notes: list[Inference] = []
    for name in table.column_names:
        if name == target:
            continue
        if name in ignore:
            dropped[name] = "listed in the ignoreColumns option"
            continue
        kind, reason = _column_kind(name, table.column(name), table.num_rows)
        if kind is None:
            dropped[name] = reason
        else:
            features.append(Feature(name, kind))
            notes.append(Inference(f"column {name}", kind, reason))
    if not features:
        raise DatasetRejected(
            "no usable feature columns remain besides the target: "
            + "; ".join(f"{name}: {reason}" for name, reason in dropped.items())
        )
    return features, dropped, notes


# --- turning raw values into model input (training and inference share this) ---------------

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def _as_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series
    return series.astype("string")


def _boolean_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"})
    lowered = series.astype("string").str.strip().str.lower()
    return lowered.where(lowered.isin(_TRUE | _FALSE)).map(
        lambda v: "true" if v in _TRUE else "false", na_action="ignore"
    )


def learn_categories(frame: pd.DataFrame, features: list[Feature]) -> None:
    """Fixes each categorical feature's levels from the training rows."""
    for feature in features:
        if feature.kind == "categorical":
            column = frame[feature.name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                used = column.cat.remove_unused_categories().cat.categories
                feature.categories = sorted(str(value) for value in used)
            else:
                feature.categories = sorted(_as_text(column).dropna().unique().tolist())
        elif feature.kind == "boolean":
            feature.categories = ["false", "true"]


def model_frame(frame: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    """Raw columns (typed, or text as a user sends them) → the columns a model is fitted on.

    Numbers become float32, categories a pandas Categorical with the training levels (unseen
    values become missing), datetimes three numbers. Missing columns become missing values.
    """
    columns: dict[str, Any] = {}
    rows = len(frame)
    for feature in features:
        raw = (
            frame[feature.name]
            if feature.name in frame.columns
            else pd.Series([None] * rows, index=frame.index)
        )
        if feature.kind == "numeric":
            values = (
                raw if pd.api.types.is_numeric_dtype(raw) else pd.to_numeric(raw, errors="coerce")
            )
            columns[feature.name] = values.astype("float32")
        elif feature.kind in ("categorical", "boolean"):
            text = _boolean_text(raw) if feature.kind == "boolean" else _as_text(raw)
            if isinstance(text.dtype, pd.CategoricalDtype):
                text = text.cat.rename_categories(lambda value: str(value))
                columns[feature.name] = text.cat.set_categories(feature.categories or [])
            else:
                levels = feature.categories or []
                known = text.where(text.isin(levels))  # unseen values become missing
                columns[feature.name] = pd.Categorical(known, categories=levels)
        elif feature.kind == "datetime":
            stamps = pd.to_datetime(raw, errors="coerce", utc=True)
            columns[f"{feature.name}@days"] = ((stamps - _EPOCH) / pd.Timedelta(days=1)).astype(
                "float32"
            )
            columns[f"{feature.name}@month"] = stamps.dt.month.astype("float32")
            columns[f"{feature.name}@weekday"] = stamps.dt.day_of_week.astype("float32")
    return pd.DataFrame(columns, index=frame.index)


def features_to_pandas(table: pa.Table, features: list[Feature]) -> dict[str, pd.Series]:
    """Arrow columns → compact pandas columns: float32 numbers, dictionary-encoded text."""
    out: dict[str, pd.Series] = {}
    for feature in features:
        column = table.column(feature.name)
        if feature.kind == "numeric" and _is_text(column.type):
            out[feature.name] = pd.to_numeric(column.to_pandas(), errors="coerce").astype("float32")
        elif feature.kind == "numeric":
            out[feature.name] = column.cast(pa.float32(), safe=False).to_pandas()
        elif feature.kind == "categorical":
            out[feature.name] = column.dictionary_encode().to_pandas()
        elif feature.kind == "datetime" and pa.types.is_date(column.type):
            # dates would become one Python object per row; timestamps stay a numpy array
            out[feature.name] = column.cast(pa.timestamp("ms")).to_pandas()
        else:
            out[feature.name] = column.to_pandas()
    return out
