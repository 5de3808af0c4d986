"""Processing job: score the held-out test split and write evaluation.json and plots.

Inputs: ``--model`` (default ``/opt/ml/processing/input/model``) holds the training job's
``model.tar.gz`` (SageMaker does not unpack it) or its unpacked files; ``--test`` (default
``/opt/ml/processing/input/test``) is preprocess's test split. Output ``--output`` (default
``/opt/ml/processing/output/evaluation``)::

    evaluation.json   SageMaker model-quality layout: binary_classification_metrics,
                      multiclass_classification_metrics or regression_metrics, each metric
                      {"value", "standard_deviation"} (std from a seeded bootstrap of the test
                      rows), the confusion matrix (actual → predicted → count) and curves;
                      a "modeldrop" section with the task, classes, row count, plot names
                      and the training run's model-info.json (libraries, hardware)
    plots/*.png       roc, precision_recall, confusion_matrix, residuals, predicted_vs_actual,
                      feature_importance, training_curve (those that apply)

Metric names match the ``metric`` run option. For binary tasks the positive class is the
second class in sorted order (``1`` of 0/1, ``true``, ``yes``). Multiclass precision, recall,
f1 and roc_auc are macro averages (each class counts the same); weighted_f1 weighs by support.

A user's own model (modeldrop.json without ``evaluate``; ml/DATA-CONTRACT.md): ``--user-code``
is their sourcedir.tar.gz and ``--user-inference`` the script in it that serves the model; the
model's files are what their train.py left in /opt/ml/model. ``--transform`` (default
``/opt/ml/processing/input/transform``) is preprocess's ``transform/``, whose ``test.csv`` holds
the test split's rows as batch transform sends them. Each request of that file (whole lines, at
most MaxPayloadInMB, as batch transform's MultiRecord) goes through ``input_fn(body,
"text/csv")`` and ``predict_fn``, and what comes back is read as one probability column per
class (in the classes' sorted order), one label per row, or one number per row (regression).
Labels give no roc_auc, log_loss or curves; ``modeldrop.note`` says so. Anything else fails
the job, saying what came back. ``modeldrop.algorithm`` is ``user``.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from . import env, plots, serving
from .artifact import load_model, unpack_model
from .batch_transform import _line_batches
from .errors import JobArgumentParser, JobFailed, run_job
from .plots import write_plots
from .progress import log, progress
from .schema import DatasetSchema, label_text
from .tabular import encode_labels

STEP = "evaluate"
BOOTSTRAP_ROUNDS = 30
BOOTSTRAP_MAX_ROWS = 50_000
CURVE_POINTS = 200
# The pipeline's Transform state sends MultiRecord requests of at most 6 MB of whole lines.
TRANSFORM_PAYLOAD_BYTES = 6 * 2**20
TRANSFORM_ROWS = "test.csv"
SHOWN_VALUES = 5
PROBABILITY_TOLERANCE = 1e-3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="evaluate", description=__doc__)
    parser.add_argument("--model", type=Path, default=env.processing_input("model"))
    parser.add_argument("--test", type=Path, default=env.processing_input("test"))
    parser.add_argument("--output", type=Path, default=env.processing_output("evaluation"))
    parser.add_argument(
        "--user-code",
        type=Path,
        nargs="?",
        const=env.processing_input("usercode") / "sourcedir.tar.gz",
        help="the user's sourcedir.tar.gz: score their model through their inference script",
    )
    parser.add_argument("--user-inference", help="that script, e.g. inference.py")
    parser.add_argument(
        "--transform",
        type=Path,
        default=env.processing_input("transform"),
        help="preprocess's transform/ (or its test.csv): the rows a user's model is sent",
    )
    args = parser.parse_args(argv)
    if (args.user_code is None) != (args.user_inference is None):
        parser.error("--user-code and --user-inference go together")
    return args


def _value(fn: Callable[[np.ndarray], float], rows: int, seed: int = 7) -> dict[str, float]:
    """A metric's value on all rows and its bootstrap standard deviation."""
    everything = np.arange(rows)
    value = float(fn(everything))
    rng = np.random.default_rng(seed)
    size = min(rows, BOOTSTRAP_MAX_ROWS)
    samples = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for _ in range(BOOTSTRAP_ROUNDS):
            try:
                sample = float(fn(rng.choice(rows, size=size, replace=True)))
            except ValueError:
                continue  # a resample without every class has no ROC AUC
            if np.isfinite(sample):
                samples.append(sample)
    spread = float(np.std(samples)) if samples else 0.0
    return {"value": value, "standard_deviation": spread}


def _confusion(
    actual: np.ndarray, predicted: np.ndarray, classes: list[str]
) -> dict[str, dict[str, int]]:
    matrix = metrics.confusion_matrix(actual, predicted, labels=list(range(len(classes))))
    return {
        classes[i]: {classes[j]: int(matrix[i, j]) for j in range(len(classes))}
        for i in range(len(classes))
    }


def _thin(values: np.ndarray) -> list[float]:
    if len(values) <= CURVE_POINTS:
        return [float(v) for v in values]
    picks = np.linspace(0, len(values) - 1, CURVE_POINTS).astype(int)
    return [float(values[i]) for i in picks]


def classification_metrics(
    actual: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[str],
    predicted: np.ndarray | None = None,
) -> dict[str, Any]:
    """The metrics of class indices ``actual`` against ``probabilities`` (rows × classes), or
    against ``predicted`` class indices alone: then roc_auc, log_loss and the curves, which
    need probabilities, are left out."""
    if predicted is None:
        if probabilities is None:
            raise ValueError("classification_metrics needs probabilities or predicted classes")
        predicted = probabilities.argmax(axis=1)
    rows = len(actual)
    labels = list(range(len(classes)))
    if len(classes) == 2:
        found = {
            "accuracy": _value(lambda i: metrics.accuracy_score(actual[i], predicted[i]), rows),
            "precision": _value(
                lambda i: metrics.precision_score(actual[i], predicted[i], zero_division=0), rows
            ),
            "recall": _value(
                lambda i: metrics.recall_score(actual[i], predicted[i], zero_division=0), rows
            ),
            "f1": _value(
                lambda i: metrics.f1_score(actual[i], predicted[i], zero_division=0), rows
            ),
        }
        if probabilities is not None:
            positive = probabilities[:, 1]
            found["log_loss"] = _value(
                lambda i: metrics.log_loss(actual[i], positive[i], labels=labels), rows
            )
        if probabilities is not None and len(np.unique(actual)) == 2:
            found["roc_auc"] = _value(lambda i: metrics.roc_auc_score(actual[i], positive[i]), rows)
            fpr, tpr, _ = metrics.roc_curve(actual, positive)
            precision, recall, _ = metrics.precision_recall_curve(actual, positive)
            found["receiver_operating_characteristic_curve"] = {
                "false_positive_rates": _thin(fpr),
                "true_positive_rates": _thin(tpr),
            }
            found["precision_recall_curve"] = {
                "precisions": _thin(precision),
                "recalls": _thin(recall),
            }
        found["confusion_matrix"] = _confusion(actual, predicted, classes)
        return {"binary_classification_metrics": found}
    found = {
        "accuracy": _value(lambda i: metrics.accuracy_score(actual[i], predicted[i]), rows),
        "precision": _value(
            lambda i: metrics.precision_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "recall": _value(
            lambda i: metrics.recall_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "f1": _value(
            lambda i: metrics.f1_score(
                actual[i], predicted[i], average="macro", labels=labels, zero_division=0
            ),
            rows,
        ),
        "weighted_f1": _value(
            lambda i: metrics.f1_score(
                actual[i], predicted[i], average="weighted", labels=labels, zero_division=0
            ),
            rows,
        ),
    }
    if probabilities is not None:
        found["log_loss"] = _value(
            lambda i: metrics.log_loss(actual[i], probabilities[i], labels=labels), rows
        )
    if probabilities is not None and len(np.unique(actual)) == len(classes):
        found["roc_auc"] = _value(
            lambda i: metrics.roc_auc_score(
                actual[i], probabilities[i], multi_class="ovr", labels=labels
            ),
            rows,
        )
    found["confusion_matrix"] = _confusion(actual, predicted, classes)
    return {"multiclass_classification_metrics": found}


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    rows = len(actual)
    return {
        "regression_metrics": {
            "rmse": _value(
                lambda i: metrics.root_mean_squared_error(actual[i], predicted[i]), rows
            ),
            "mae": _value(lambda i: metrics.mean_absolute_error(actual[i], predicted[i]), rows),
            "r2": _value(lambda i: metrics.r2_score(actual[i], predicted[i]), rows),
        }
    }


def score_tabular(model: Any, test: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    frame = pd.read_parquet(test / "data.parquet")
    schema = model.schema
    predictions = model.predict(frame)
    if schema.task == "regression":
        actual = frame[schema.target].to_numpy(dtype="float64")
        return regression_metrics(actual, predictions.values), {
            "actual": actual,
            "predicted": predictions.values,
        }
    actual = encode_labels(frame[schema.target], schema.classes)
    known = actual >= 0
    return (
        classification_metrics(actual[known], predictions.probabilities[known], schema.classes),
        {"actual": actual[known], "probabilities": predictions.probabilities[known]},
    )


def score_images(model: Any, test: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from .vision import class_images, load_image

    classes = model.classes
    samples = class_images(test, classes)
    paths = [path for path, _ in samples]
    actual = [index for _, index in samples]
    probabilities = np.concatenate(
        [
            model.predict_proba([load_image(p) for p in paths[start : start + 256]])
            for start in range(0, len(paths), 256)
        ]
    )
    labels = np.asarray(actual)
    return classification_metrics(labels, probabilities, classes), {
        "actual": labels,
        "probabilities": probabilities,
    }


def _modeldrop_section(
    schema: DatasetSchema, test_rows: int, algorithm: str, **more: Any
) -> dict[str, Any]:
    classes = schema.classes
    return {
        "task": schema.task,
        "target": schema.target,
        "classes": classes,
        "positive_class": classes[1] if classes and len(classes) == 2 else None,
        "test_rows": test_rows,
        "algorithm": algorithm,
        **more,
    }


def evaluate_modeldrop_model(args: argparse.Namespace) -> dict[str, Any]:
    progress(STEP, 0, 3, "loading the model")
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpack_model(args.model, Path(scratch))
        model = load_model(folder)
        history_file = folder / "history.json"
        history = (
            json.loads(history_file.read_text(encoding="utf-8")) if history_file.is_file() else None
        )
        # Library versions and hardware of the training run, carried to the run's lineage.
        info_file = folder / "model-info.json"
        model_info = (
            json.loads(info_file.read_text(encoding="utf-8")) if info_file.is_file() else None
        )
        # The select job's comparison of the candidates, for the report and the run record.
        board_file = folder / "leaderboard.json"
        leaderboard = (
            json.loads(board_file.read_text(encoding="utf-8")) if board_file.is_file() else None
        )
    progress(STEP, 1, 3, "scoring the test split")
    if model.kind == "image":
        evaluation, scored = score_images(model, args.test)
    else:
        evaluation, scored = score_tabular(model, args.test)
    progress(STEP, 2, 3, "drawing plots")
    importance = getattr(model, "feature_importance", {})
    drawn = write_plots(args.output / "plots", model.schema, scored, importance, history)
    evaluation["modeldrop"] = _modeldrop_section(
        model.schema,
        len(scored["actual"]),
        model.algorithm,
        feature_importance=importance,
        plots=drawn,
        model_info=model_info,
        leaderboard=leaderboard,
    )
    return evaluation


# --- a user's model, served by their own inference script -----------------------------------


def _unpack_code(archive: Path, folder: Path) -> Path:
    """The user's sourcedir.tar.gz unpacked into ``folder``; links or paths that would leave it
    are refused, as in bootstrap.py."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise JobFailed(f"the code archive {archive.name} cannot be unpacked: {error}") from error
    return folder


def _described(value: Any) -> str:
    """What a handler returned, for a message: its type and, for an array or list, its shape."""
    if value is None:
        return "None"
    name = type(value).__name__
    shape = getattr(value, "shape", None)
    if shape is None and isinstance(value, list | tuple):
        try:
            shape = np.asarray(value).shape
        except (TypeError, ValueError):
            return f"a ragged {name}"
    return name if shape is None else f"{name} of shape {tuple(shape)}"


def read_prediction(
    result: Any, rows: int, schema: DatasetSchema, script: str
) -> tuple[str, np.ndarray]:
    """What a user's predict_fn returned for a request of ``rows`` rows, as
    ("probabilities", rows × classes), ("labels", class indices) or ("values", numbers)."""
    classes = schema.classes or []
    if schema.task == "regression":
        expected = "one number per row (a 1-D array)"
    else:
        expected = (
            f"one label per row (a 1-D array of {', '.join(classes)}) or one probability column "
            f"per class in that order (a {rows} x {len(classes)} array)"
        )

    def wrong(what: str) -> JobFailed:
        return JobFailed(
            f"{script}'s predict_fn returned {what} for {rows} test rows; the built-in "
            f"evaluation needs {expected}."
        )

    if result is None or isinstance(result, str | bytes | dict):
        raise wrong(_described(result))
    try:
        array = np.asarray(result)
    except (TypeError, ValueError):
        raise wrong(_described(result)) from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    columns_fit = array.ndim == 2 and schema.task != "regression" and array.shape[1] == len(classes)
    if not (array.ndim == 1 or columns_fit) or len(array) != rows:
        raise wrong(_described(result))
    if array.dtype == object:
        odd = next((v for v in array.ravel() if v is not None and not np.isscalar(v)), None)
        if odd is not None:
            raise wrong(f"{_described(result)} holding {type(odd).__name__} values")
    if array.ndim == 2 or schema.task == "regression":
        try:
            numbers = array.astype(np.float64)
        except (TypeError, ValueError):
            raise wrong(f"{_described(result)} that is not numbers") from None
        if array.ndim == 1:
            missing = int((~np.isfinite(numbers)).sum())
            if missing:
                raise wrong(f"{missing} missing or infinite values")
            return "values", numbers
        if not _probabilities(numbers):
            first = ", ".join(f"{v:.4g}" for v in numbers[0])
            raise wrong(
                f"{len(classes)} columns that are not class probabilities (each row in [0, 1], "
                f"summing to 1; the first is {first})"
            )
        return "probabilities", numbers
    codes = encode_labels(pd.Series(array), classes)
    if (codes < 0).any():
        unknown = pd.Series(array[codes < 0]).drop_duplicates().head(SHOWN_VALUES)
        shown = ", ".join(repr(label_text(value)) for value in unknown)
        raise wrong(f"labels that are not classes of {schema.target} ({shown})")
    return "labels", codes


def _probabilities(values: np.ndarray) -> bool:
    return bool(
        np.isfinite(values).all()
        and (values >= -PROBABILITY_TOLERANCE).all()
        and (values <= 1 + PROBABILITY_TOLERANCE).all()
        and np.allclose(values.sum(axis=1), 1, atol=PROBABILITY_TOLERANCE)
    )


def _request_rows(body: bytes) -> int:
    """Rows in a request of whole lines of test.csv (the last one may lack its newline)."""
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def predict_test_rows(
    handlers: serving.Handlers, model: Any, rows_file: Path, schema: DatasetSchema, script: str
) -> tuple[str, np.ndarray]:
    """test.csv through input_fn and predict_fn, request by request as batch transform sends it."""
    kinds: set[str] = set()
    parts: list[np.ndarray] = []
    for first_line, body in _line_batches(rows_file, TRANSFORM_PAYLOAD_BYTES, single=False):
        try:
            result = handlers.predict(model, body, serving.CSV)
        except serving.HandlerFailed as error:
            raise JobFailed(
                f"scoring the test rows with {script}: {rows_file.name}, line {first_line}: {error}"
            ) from error
        kind, values = read_prediction(result, _request_rows(body), schema, script)
        kinds.add(kind)
        parts.append(values)
    if len(kinds) > 1:
        raise JobFailed(
            f"{script}'s predict_fn returned {' for some requests and '.join(sorted(kinds))} "
            "for others; it must return one kind for every request."
        )
    return kinds.pop(), np.concatenate(parts)


def evaluate_user_model(args: argparse.Namespace) -> dict[str, Any]:
    script: str = args.user_inference
    schema = DatasetSchema.from_json(
        json.loads((args.test / "dataset.json").read_text(encoding="utf-8"))
    )
    if schema.task == "image_classification":
        raise JobFailed(
            "the built-in evaluation scores a user's model on tables only; for images add an "
            "evaluate step to modeldrop.json."
        )
    rows_file = args.transform if args.transform.is_file() else args.transform / TRANSFORM_ROWS
    if not rows_file.is_file():
        # The pipeline stages preprocess's transform/ beside the test split; a user cannot fix this.
        raise FileNotFoundError(
            f"preprocess's transform/{TRANSFORM_ROWS} was not given to evaluate"
        )
    target = pd.read_parquet(args.test / "data.parquet", columns=[schema.target])[schema.target]
    progress(STEP, 0, 3, f"loading the model with {script}")
    with tempfile.TemporaryDirectory() as scratch:
        code = _unpack_code(args.user_code, Path(scratch) / "code")
        folder = unpack_model(args.model, Path(scratch) / "model", require_artifact=False)
        environment = {serving.PROGRAM: script, serving.SUBMIT_DIRECTORY: args.user_code.name}
        handlers = serving.load_handlers(environment, code)
        if handlers.transform_fn is not None:
            raise JobFailed(
                f"{script} defines transform_fn, whose answer the built-in evaluation cannot "
                "read; define input_fn and predict_fn instead, or add an evaluate step to "
                "modeldrop.json."
            )
        try:
            model = handlers.load(str(folder))
        except serving.HandlerFailed as error:
            raise JobFailed(f"loading the model with {script}: {error}") from error
        progress(STEP, 1, 3, "scoring the test split")
        kind, predicted = predict_test_rows(handlers, model, rows_file, schema, script)
    if len(predicted) != len(target):
        raise RuntimeError(
            f"{rows_file.name} has {len(predicted)} rows but the test split {len(target)}"
        )
    progress(STEP, 2, 3, "drawing plots")
    plot_dir = args.output / "plots"
    if schema.task == "regression":
        actual = target.to_numpy(dtype="float64")
        evaluation = regression_metrics(actual, predicted)
        scored = {"actual": actual, "predicted": predicted}
        drawn = write_plots(plot_dir, schema, scored, {}, None)
    else:
        classes = schema.classes or []
        codes = encode_labels(target, classes)
        known = codes >= 0
        actual, predicted = codes[known], predicted[known]
        if kind == "probabilities":
            evaluation = classification_metrics(actual, predicted, classes)
            scored = {"actual": actual, "probabilities": predicted}
            drawn = write_plots(plot_dir, schema, scored, {}, None)
        else:
            evaluation = classification_metrics(actual, None, classes, predicted)
            scored = {"actual": actual, "predicted": predicted}
            # Curves need probabilities; write_plots draws them for any classifier.
            drawn = []
            plot_dir.mkdir(parents=True, exist_ok=True)
            plots._confusion(plot_dir, actual, predicted, classes, drawn)
    notes = (
        {
            "note": f"{script}'s predict_fn returned labels, not class probabilities, so "
            "roc_auc, log_loss and their curves are not computed."
        }
        if kind == "labels"
        else {}
    )
    evaluation["modeldrop"] = _modeldrop_section(
        schema,
        len(scored["actual"]),
        "user",
        predictions=kind,
        **notes,
        feature_importance={},
        plots=drawn,
        model_info={"inference_script": script},
    )
    return evaluation


def main(args: argparse.Namespace) -> None:
    output: Path = args.output
    output.mkdir(parents=True, exist_ok=True)
    if args.user_code is not None:
        evaluation = evaluate_user_model(args)
    else:
        evaluation = evaluate_modeldrop_model(args)
    (output / "evaluation.json").write_text(json.dumps(evaluation, indent=2), encoding="utf-8")
    headline = {
        name: round(metric["value"], 4)
        for section in evaluation.values()
        for name, metric in section.items()
        if isinstance(metric, dict) and "value" in metric
    }
    log(f"test metrics: {headline}")
    rows = evaluation["modeldrop"]["test_rows"]
    progress(STEP, 3, 3, f"{rows} test rows scored")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.processing_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
