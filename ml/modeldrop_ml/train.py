"""Training job: fit the model on the train channel, early-stop on the validation channel.

Channels (``/opt/ml/input/data/<name>``, or ``SM_CHANNEL_<NAME>``): ``train`` and
``validation`` as preprocess wrote them (``data.parquet`` or ``<class>/<image>`` folders, each
with ``dataset.json``); optional ``weights`` holding a ResNet-18 state-dict file to start from.

Hyperparameters arrive as SageMaker sends them: as strings in ``hyperparameters.json`` and as
``--name value`` command-line arguments (the training toolkit passes both; arguments win).
``algorithm`` picks the learner (xgboost, random_forest, linear for tables; resnet18 for
images; default xgboost or resnet18); the others are the ``hyperparameters`` run options.

Writes ONE artifact to ``/opt/ml/model`` (SageMaker tars it into model.tar.gz):
``model.joblib`` (the whole inference pipeline), ``history.json`` (training curve),
``model-info.json`` (algorithm, task, target, classes, input columns and features with their
kinds, library versions, hardware) and ``dataset.json``.
"""

from __future__ import annotations

import argparse
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from . import env
from .artifact import ARTIFACT
from .errors import InvalidOption, JobArgumentParser, JobFailed, run_job
from .options import coerce_hyperparameters, options_schema
from .progress import log, progress
from .schema import DatasetSchema, learn_categories, model_frame
from .tabular import encode_labels, fit_sklearn, fit_xgboost

STEP = "train"
TABULAR_DEFAULT = "xgboost"
IMAGE_DEFAULT = "resnet18"


def _hyperparameter_specs() -> dict[str, dict[str, Any]]:
    return options_schema()["properties"]["hyperparameters"]["properties"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="train", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=env.model_dir())
    parser.add_argument("--train", type=Path, default=env.channel_dir("train"))
    parser.add_argument("--validation", type=Path, default=env.channel_dir("validation"))
    parser.add_argument("--weights", type=Path, default=env.channel_dir("weights"))
    parser.add_argument("--algorithm", default=None)
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
    if args.algorithm is not None:
        raw["algorithm"] = args.algorithm
    args.raw_hyperparameters = raw
    return args


def resolve_algorithm(raw: dict[str, str], task: str) -> tuple[str, dict[str, Any]]:
    """Algorithm and typed hyperparameters; each must apply to the algorithm chosen."""
    raw = dict(raw)
    choices = options_schema()["properties"]["algorithm"]["enum"]
    algorithm = raw.pop("algorithm", None) or (
        IMAGE_DEFAULT if task == "image_classification" else TABULAR_DEFAULT
    )
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
) -> tuple[Any, dict]:
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
    log(
        f"training {algorithm} on {len(train_x)} rows x {train_x.shape[1]} features, validating on {len(valid_x)}"
    )
    if algorithm == "xgboost":
        gpu = env.gpu_count() > 0
        log(f"xgboost device: {'cuda' if gpu else 'cpu'}")
        model, history = fit_xgboost(schema, train_x, train_y, valid_x, valid_y, hp, gpu, _report)
        history["device"] = "cuda" if gpu else "cpu"
    else:
        model, history = fit_sklearn(schema, algorithm, train_x, train_y, valid_x, valid_y, hp)
    history["train_rows"] = len(train_x)
    history["validation_rows"] = len(valid_x)
    return model, history


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
    return model, history


def main(args: argparse.Namespace) -> None:
    schema = read_schema(args.train)
    algorithm, hp = resolve_algorithm(args.raw_hyperparameters, schema.task)
    log(
        f"task {schema.task}, target {schema.target!r}, algorithm {algorithm}, hyperparameters {hp}"
    )
    if schema.task == "image_classification":
        model, history = train_images(args, schema, hp)
        libraries = ["torch", "torchvision", "pillow", "numpy", "scikit-learn"]
    else:
        model, history = train_tabular(args, schema, algorithm, hp)
        libraries = ["xgboost", "scikit-learn", "pandas", "pyarrow", "numpy"]
    out: Path = args.model_dir
    out.mkdir(parents=True, exist_ok=True)
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
        "hyperparameters": hp,
        "gpus": env.gpu_count(),
        "libraries": _versions(libraries),
    }
    (out / "model-info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    log(f"saved {out / ARTIFACT}")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.training_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
