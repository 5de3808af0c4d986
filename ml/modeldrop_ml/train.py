"""Training job: one candidate of the run's search, or the one model a pinned algorithm names.

Channels (``/opt/ml/input/data/<name>``, or ``SM_CHANNEL_<NAME>``): ``train`` and
``validation`` as preprocess wrote them (``data.parquet`` or ``<class>/<image>`` folders, each
with ``dataset.json``); optional ``weights`` holding a ResNet-18 state-dict file to start from.

Hyperparameters arrive as SageMaker sends them: as strings in ``hyperparameters.json`` and as
``--name value`` command-line arguments (the training toolkit passes both; arguments win).
``algorithm`` picks the learner (xgboost, lightgbm, random_forest, extra_trees, linear for
tables; resnet18 for images; default xgboost or resnet18); ``preset`` (fast, balanced, best),
``time_budget_seconds`` (this job's share of the run's budget) and ``metric`` (what validation
compares) steer the search (modeldrop_ml/search.py); the others are the ``hyperparameters`` run
options, which the search keeps fixed.

Writes ONE artifact to ``/opt/ml/model`` (SageMaker tars it into model.tar.gz):
``model.joblib`` (the whole inference pipeline), ``history.json`` (training curve),
``model-info.json`` (algorithm, task, target, classes, input columns and features with their
kinds, library versions, hardware), ``dataset.json``, and for the select job ``candidate.json``
(the validation score and its spread, the hyperparameters chosen, the trials, the time) and, for
tables, ``oof.npz`` (the chosen trial's predictions on the validation rows).
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from . import env
from .artifact import ARTIFACT
from .errors import InvalidOption, JobArgumentParser, JobFailed, run_job
from .options import coerce_hyperparameters, options_schema
from .progress import log, progress
from .schema import (
    DatasetSchema,
    check_metric,
    learn_categories,
    model_frame,
)
from .search import DEFAULT_METRIC, Settings, presets, search
from .tabular import encode_labels

STEP = "train"
TABULAR_DEFAULT = "xgboost"
IMAGE_DEFAULT = "resnet18"
# Settings of the job itself, sent among the hyperparameters as SageMaker sends everything.
CONTROLS = ("algorithm", "preset", "time_budget_seconds", "metric")


def _hyperparameter_specs() -> dict[str, dict[str, Any]]:
    return options_schema()["properties"]["hyperparameters"]["properties"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="train", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=env.model_dir())
    parser.add_argument("--train", type=Path, default=env.channel_dir("train"))
    parser.add_argument("--validation", type=Path, default=env.channel_dir("validation"))
    parser.add_argument("--weights", type=Path, default=env.channel_dir("weights"))
    for name in CONTROLS:
        parser.add_argument(f"--{name}", default=None)
    for name in _hyperparameter_specs():
        parser.add_argument(f"--{name}", default=None)
    args = parser.parse_args(argv)
    from_file = {
        key: value
        for key, value in env.read_hyperparameters().items()
        if not key.startswith("sagemaker_")
    }
    from_args = {
        name: getattr(args, name)
        for name in _hyperparameter_specs()
        if getattr(args, name) is not None
    }
    raw = {**from_file, **from_args}
    for name in CONTROLS:
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    args.controls = {name: _unquoted(raw.pop(name)) for name in CONTROLS if name in raw}
    args.raw_hyperparameters = raw
    return args


def _unquoted(value: str) -> str:
    """SageMaker's hyperparameters.json may hold JSON-encoded strings ("\"fast\"")."""
    return value.strip().strip('"')


def search_settings(controls: dict[str, str], task: str) -> Settings:
    """The search's settings from the preset and the job's controls, each validated by name."""
    table = presets()
    name = controls.get("preset", table["default"])
    if name not in table["presets"]:
        raise InvalidOption("preset", f"{name!r} is not one of {', '.join(table['presets'])}")
    preset = table["presets"][name]
    budget = controls.get("time_budget_seconds", str(preset["budget_seconds"]))
    try:
        seconds = float(budget)
    except ValueError:
        raise InvalidOption("timeBudgetSeconds", f"{budget!r} is not a number of seconds") from None
    if not seconds > 0:
        raise InvalidOption("timeBudgetSeconds", f"{budget!r} must be more than 0 seconds")
    metric = controls.get("metric", DEFAULT_METRIC.get(task, "accuracy"))
    check_metric(metric, task)
    return Settings(
        metric=metric,
        trials=preset["trials"],
        folds=preset["folds"],
        cross_validation_below_rows=table["cross_validation_below_rows"],
        budget_seconds=seconds,
    )


def resolve_algorithm(
    raw: dict[str, str], task: str, named: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Algorithm and typed hyperparameters; each must apply to the algorithm chosen."""
    choices = options_schema()["properties"]["algorithm"]["enum"]
    algorithm = named or (IMAGE_DEFAULT if task == "image_classification" else TABULAR_DEFAULT)
    algorithm = algorithm.strip().strip('"')
    if algorithm not in choices:
        raise InvalidOption("algorithm", f"{algorithm!r} is not one of {', '.join(choices)}")
    if (algorithm == IMAGE_DEFAULT) != (task == "image_classification"):
        kind = "images" if algorithm == IMAGE_DEFAULT else "tables"
        raise InvalidOption(
            "algorithm", f"{algorithm} trains on {kind}, but this dataset is {task}"
        )
    typed = coerce_hyperparameters(raw)
    specs = _hyperparameter_specs()
    for name in typed:
        applies = specs[name].get("algorithms", [])
        if algorithm not in applies:
            raise InvalidOption(
                f"hyperparameters.{name}",
                f"does not apply to {algorithm} (it applies to {', '.join(applies)})",
            )
    return algorithm, typed


def read_schema(channel: Path) -> DatasetSchema:
    path = channel / "dataset.json"
    if not path.is_file():
        raise JobFailed(
            f"the {channel.name} channel has no dataset.json: it was not written by preprocess."
        )
    return DatasetSchema.from_json(json.loads(path.read_text(encoding="utf-8")))


def _versions(names: list[str]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _report(done: int, total: int, message: str) -> None:
    progress(STEP, done, total, message)


def train_tabular(
    args: argparse.Namespace, schema: DatasetSchema, algorithm: str, hp: dict[str, Any]
) -> tuple[Any, dict, dict]:
    progress(STEP, 0, 1, "loading the train and validation splits")
    train = pd.read_parquet(args.train / "data.parquet")
    validation = pd.read_parquet(args.validation / "data.parquet")
    learn_categories(train, schema.features)
    target = schema.target
    if schema.task == "regression":
        train_y = train[target].to_numpy(dtype="float64")
        valid_y = validation[target].to_numpy(dtype="float64")
    else:
        classes = schema.classes or []
        train_y = encode_labels(train[target], classes)
        valid_y = encode_labels(validation[target], classes)
    train_x = model_frame(train, schema.features)
    del train
    valid_x = model_frame(validation, schema.features)
    del validation
    rows = pd.concat([train_x, valid_x], ignore_index=True)
    actual = np.concatenate([train_y, valid_y])
    settings = search_settings(args.controls, schema.task)
    log(
        f"searching {algorithm} on {len(train_x)} train + {len(valid_x)} validation rows x "
        f"{train_x.shape[1]} features: up to {settings.trials} trials in {settings.budget_seconds:g} s, "
        f"compared on {settings.metric}"
    )
    gpu = algorithm == "xgboost" and env.gpu_count() > 0
    if algorithm == "xgboost":
        log(f"xgboost device: {'cuda' if gpu else 'cpu'}")
    found = search(schema, algorithm, hp, rows, actual, len(train_x), settings, gpu, _report)
    ranked = found.candidate
    log(
        f"{algorithm}: {settings.metric} {ranked['validation']['score']:.5g} on "
        f"{ranked['validation']['method']} after {ranked['trials']['run']} trial(s) "
        f"(stopped by {ranked['trials']['stopped_by']}); refit on {len(actual)} rows"
    )
    history = found.history
    history["device"] = "cuda" if gpu else "cpu"
    history["train_rows"] = len(train_x)
    history["validation_rows"] = len(valid_x)
    np.savez_compressed(args.model_dir / "oof.npz", actual=found.actual, predictions=found.oof)
    return found.model, history, ranked


def train_images(
    args: argparse.Namespace, schema: DatasetSchema, hp: dict[str, Any]
) -> tuple[Any, dict]:
    from .vision import train_resnet18

    weights = None
    if args.weights.is_dir():
        files = sorted(
            path for path in args.weights.iterdir() if path.suffix in (".pt", ".pth", ".bin")
        )
        if len(files) != 1:
            raise JobFailed("the weights channel must hold exactly one .pt/.pth state-dict file.")
        weights = files[0]
    epochs = hp.get("epochs", 10)

    def on_epoch(epoch: int, total: int, record: dict[str, Any]) -> None:
        progress(
            STEP,
            epoch,
            total,
            f"epoch {epoch}: validation loss {record['validation_loss']:.4f}, "
            f"accuracy {record['validation_accuracy']:.3f}",
        )

    started = time.monotonic()
    model, epochs_run = train_resnet18(
        args.train,
        args.validation,
        schema=schema,
        epochs=epochs,
        batch_size=hp.get("batch_size", 32),
        learning_rate=hp.get("learning_rate", 1e-3),
        image_size=hp.get("image_size", 64),
        seed=hp.get("seed", 42),
        weights_file=weights,
        on_epoch=on_epoch,
    )
    history = {
        "algorithm": "resnet18",
        "metric": "validation_loss",
        "epochs": epochs_run,
        "pretrained_weights": weights.name if weights else None,
        "parameters": hp,
    }
    best = min(epochs_run, key=lambda record: record["validation_loss"])
    candidate = {
        "algorithm": "resnet18",
        "metric": "accuracy",
        "direction": "higher",
        "validation": {
            "method": "validation split",
            "rows": None,
            "score": best.get("validation_accuracy"),
            "std": None,
            "folds": [],
        },
        "hyperparameters": hp,
        "trials": {"run": 1, "limit": 1, "failed": [], "stopped_by": "trials"},
        "seconds": time.monotonic() - started,
    }
    return model, history, candidate


def main(args: argparse.Namespace) -> None:
    schema = read_schema(args.train)
    algorithm, hp = resolve_algorithm(
        args.raw_hyperparameters, schema.task, args.controls.get("algorithm")
    )
    log(
        f"task {schema.task}, target {schema.target!r}, algorithm {algorithm}, hyperparameters {hp}"
    )
    out: Path = args.model_dir
    out.mkdir(parents=True, exist_ok=True)
    if schema.task == "image_classification":
        model, history, candidate = train_images(args, schema, hp)
        libraries = ["torch", "torchvision", "pillow", "numpy", "scikit-learn"]
    else:
        model, history, candidate = train_tabular(args, schema, algorithm, hp)
        libraries = ["xgboost", "lightgbm", "optuna", "scikit-learn", "pandas", "pyarrow", "numpy"]
    (out / "candidate.json").write_text(
        json.dumps(candidate, indent=2, default=float), encoding="utf-8"
    )
    joblib.dump(model, out / ARTIFACT)
    (out / "history.json").write_text(
        json.dumps(history, indent=2, default=float), encoding="utf-8"
    )
    (out / "dataset.json").write_text(json.dumps(schema.to_json(), indent=2), encoding="utf-8")
    info = {
        "algorithm": algorithm,
        "task": schema.task,
        "target": schema.target,
        "classes": schema.classes,
        # What a prediction's rows must carry, readable without unpickling the model (evaluate
        # copies this file into evaluation.json's modeldrop.model_info).
        "input_columns": schema.input_columns,
        "features": [{"name": f.name, "kind": f.kind} for f in schema.features],
        # what the model was trained with (the search's choice), and what the run fixed
        "hyperparameters": candidate["hyperparameters"],
        "pinned_hyperparameters": hp,
        "gpus": env.gpu_count(),
        "libraries": _versions(libraries),
    }
    (out / "model-info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    log(f"saved {out / ARTIFACT}")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.training_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
