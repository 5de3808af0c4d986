"""Processing job: profile and validate a dropped dataset, infer what to learn, split it.

Reads one file from ``--input`` (default ``/opt/ml/processing/input/data``): CSV, Parquet, or a
zip of images laid out ``<class>/<image>``. Writes to ``--output`` (default
``/opt/ml/processing/output/processed``)::

    profile.json                      rows, columns, types, missing %, target balance, inferences
    train/  validation/  test/        data.parquet (tables) or <class>/<image> (images),
                                      each with dataset.json (what train and inference agree on)
    transform/                        what batch transform predicts: test.csv, the test rows
                                      without the target or a header (tables), or a copy of the
                                      test images without dataset.json (images)

Run options come from ``--options`` (JSON) or ``--options-file`` (default
``/opt/ml/processing/input/options/options.json`` when present): container arguments are
limited to 256 characters each, so on SageMaker the options travel as a file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sklearn.model_selection import train_test_split

from . import env
from .errors import DatasetRejected, InvalidOption, JobArgumentParser, run_job
from .options import DEFAULT_SPLIT, parse_options_json
from .progress import log, progress
from .schema import (
    TABULAR_ALGORITHMS,
    DatasetSchema,
    Inference,
    check_metric,
    check_target,
    choose_target,
    choose_task,
    countable,
    features_to_pandas,
    infer_features,
    label_text,
    sorted_labels,
)
from .tables import dataset_format, read_table

STEP = "preprocess"
SIDECAR_SUFFIX = ".modeldrop.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="preprocess", description=__doc__)
    parser.add_argument("--input", type=Path, default=env.processing_input("data"))
    parser.add_argument("--output", type=Path, default=env.processing_output("processed"))
    parser.add_argument("--options", default=None, help="run options as JSON")
    parser.add_argument(
        "--options-file", type=Path, default=env.processing_input("options") / "options.json"
    )
    return parser.parse_args(argv)


def dataset_file(path: Path) -> Path:
    """The one dataset in the input: the path itself, or the single data file in a folder."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise DatasetRejected(f"no dataset was given: the input {path.name!r} does not exist.")
    files = [
        item
        for item in sorted(path.iterdir())
        if item.is_file()
        and not item.name.startswith(".")
        and not item.name.endswith(SIDECAR_SUFFIX)
    ]
    if len(files) != 1:
        names = ", ".join(item.name for item in files) or "nothing"
        raise DatasetRejected(f"expected exactly one dataset file in the input, found: {names}.")
    return files[0]


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.options is not None:
        return parse_options_json(args.options)
    if args.options_file.is_file():
        return parse_options_json(args.options_file.read_text(encoding="utf-8"))
    return {}


def check_option_fit(options: dict[str, Any], task: str) -> None:
    """Options that are valid alone but not for this task fail before any training starts."""
    algorithm = options.get("algorithm")
    if task == "image_classification":
        if algorithm is not None and algorithm != "resnet18":
            raise InvalidOption("algorithm", f"{algorithm} trains on tables; images use resnet18")
    elif algorithm == "resnet18":
        raise InvalidOption("algorithm", f"resnet18 trains on images, but this is a {task} table")
    elif algorithm is not None and algorithm not in TABULAR_ALGORITHMS:
        raise InvalidOption("algorithm", f"{algorithm} is not a tabular algorithm")
    metric = options.get("metric")
    if metric is not None:
        check_metric(metric, task)


def split_indices(
    labels: np.ndarray | None, rows: int, split: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Seeded train/validation/test row indices, stratified by class when labels are given."""
    everything = np.arange(rows)
    seed = split["seed"]
    rest, test = train_test_split(
        everything, test_size=split["test"], random_state=seed, stratify=labels
    )
    validation_share = split["validation"] / (1 - split["test"])
    rest_labels = labels[rest] if labels is not None else None
    train, validation = train_test_split(
        rest, test_size=validation_share, random_state=seed, stratify=rest_labels
    )
    return {"train": np.sort(train), "validation": np.sort(validation), "test": np.sort(test)}


def _column_profile(table: pa.Table, name: str, role: str) -> dict[str, Any]:
    column = table.column(name)
    rows = max(table.num_rows, 1)
    profile: dict[str, Any] = {
        "name": name,
        "type": str(column.type),
        "role": role,
        "missing_pct": round(100 * column.null_count / rows, 2),
    }
    if pa.types.is_null(column.type):
        profile["distinct"] = 0
    elif countable(column.type):
        profile["distinct"] = pc.count_distinct(column).as_py()
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        stats = pc.min_max(column).as_py()
        profile.update(
            min=stats["min"],
            max=stats["max"],
            mean=pc.mean(column).as_py(),
            std=pc.stddev(column).as_py(),
        )
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        top = pc.value_counts(column.drop_null()).to_pylist()
        top.sort(key=lambda item: -item["counts"])
        profile["top_values"] = {str(item["values"]): item["counts"] for item in top[:10]}
    return profile


def _target_balance(table: pa.Table, target: str, task: str) -> dict[str, Any]:
    column = table.column(target)
    if task == "regression":
        stats = pc.min_max(column).as_py()
        return {
            "min": stats["min"],
            "max": stats["max"],
            "mean": pc.mean(column).as_py(),
            "std": pc.stddev(column).as_py(),
        }
    counts = {
        label_text(item["values"]): item["counts"] for item in pc.value_counts(column).to_pylist()
    }
    return {
        "counts": counts,
        "fractions": {key: round(value / table.num_rows, 4) for key, value in counts.items()},
    }


def _write_split(frame: pd.DataFrame, folder: Path, schema: DatasetSchema) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "data.parquet", index=False)
    (folder / "dataset.json").write_text(json.dumps(schema.to_json(), indent=2), encoding="utf-8")


def preprocess_table(
    path: Path, output: Path, options: dict[str, Any], split: dict[str, Any]
) -> dict[str, Any]:
    progress(STEP, 0, 5, f"reading {path.name}")
    table, read_info = read_table(path)
    log(f"read {read_info.rows} rows x {table.num_columns} columns ({read_info.format})")
    original_rows, columns = table.num_rows, table.column_names
    if len(columns) < 2:
        raise DatasetRejected(
            f"{path.name} has a single column ({columns[0]!r}); a table needs a target and at least "
            f"one feature. If it has more, the delimiter was not recognised (tried {read_info.delimiter!r})."
        )

    progress(STEP, 1, 5, "inferring target, task and column types")
    target_note = choose_target(columns, options.get("target"))
    target = target_note.value
    task_note = choose_task(table.column(target), target, options.get("task"))
    task = task_note.value
    check_option_fit(options, task)
    table, target_notes = check_target(table, target, task)
    features, dropped, column_notes = infer_features(
        table, target, options.get("ignoreColumns", [])
    )
    inferences = [target_note, task_note, *target_notes, *column_notes]
    for name, reason in dropped.items():
        inferences.append(Inference(f"column {name}", "dropped", reason))

    classes: list[str] | None = None
    labels: np.ndarray | None = None
    target_column = table.column(target)
    if task != "regression":
        classes = sorted_labels(pc.unique(target_column).to_pylist())
        # class codes for stratification, without a Python object per row
        labels = (
            target_column.combine_chunks()
            .dictionary_encode()
            .indices.to_numpy(zero_copy_only=False)
        )
    # Nested columns (Parquet lists, structs, maps) are never features and cannot travel in a
    # CSV row, so rows to predict leave them out.
    nested = {name for name in columns if pa.types.is_nested(table.column(name).type)}
    schema = DatasetSchema(
        task=task,
        target=target,
        input_columns=[name for name in columns if name != target and name not in nested],
        features=features,
        classes=classes,
        dropped=dropped,
    )
    profile = {
        "dataset": path.name,
        "format": read_info.format,
        "encoding": read_info.encoding,
        "delimiter": read_info.delimiter,
        "rows": original_rows,
        "rows_used": table.num_rows,
        "malformed_rows_skipped": read_info.malformed_rows_skipped,
        "renamed_columns": read_info.renamed_columns,
        "columns": [
            _column_profile(
                table,
                name,
                "target"
                if name == target
                else (
                    "dropped"
                    if name in dropped
                    else next(f.kind for f in features if f.name == name)
                ),
            )
            for name in columns
        ],
        "target": {
            "name": target,
            "task": task,
            "classes": classes,
            "balance": _target_balance(table, target, task),
        },
        "inferences": [vars(note) for note in inferences],
    }

    progress(STEP, 2, 5, "splitting train/validation/test")
    parts = split_indices(labels, table.num_rows, split)
    del labels

    progress(STEP, 3, 5, "writing the test rows for batch transform")
    transform_dir = output / "transform"
    transform_dir.mkdir(parents=True, exist_ok=True)
    test_inputs = table.take(pa.array(parts["test"])).drop_columns([target, *sorted(nested)])
    pacsv.write_csv(
        test_inputs, transform_dir / "test.csv", pacsv.WriteOptions(include_header=False)
    )
    del test_inputs

    progress(STEP, 4, 5, "writing the splits")
    frame = pd.DataFrame(features_to_pandas(table, features))
    frame[target] = target_column.to_pandas()
    del table, target_column
    for name, rows in parts.items():
        _write_split(frame.iloc[rows], output / name, schema)
    profile["splits"] = {name: len(rows) for name, rows in parts.items()}
    return profile


def preprocess_images(
    path: Path, output: Path, options: dict[str, Any], split: dict[str, Any]
) -> dict[str, Any]:
    from . import vision

    if options.get("task") not in (None, "image_classification"):
        raise InvalidOption(
            "task", f"{options['task']} needs a table; a zip of images is image_classification"
        )
    check_option_fit(options, "image_classification")
    if options.get("target") is not None:
        raise InvalidOption(
            "target", "images take their class from the folder name; remove the target option"
        )
    progress(STEP, 0, 3, f"unpacking {path.name}")
    with tempfile.TemporaryDirectory() as scratch:
        dataset = vision.extract_image_zip(
            path, Path(scratch), max_expanded_bytes=vision.MAX_ZIP_EXPANDED_BYTES
        )
        progress(
            STEP, 1, 3, f"{len(dataset.files)} images in {len(dataset.classes)} classes; splitting"
        )
        counts = vision.split_images(
            dataset, output, validation=split["validation"], test=split["test"], seed=split["seed"]
        )
    schema = DatasetSchema(
        task="image_classification",
        target="class",
        input_columns=[],
        features=[],
        classes=dataset.classes,
    )
    # Batch transform sends every object under its input prefix to the model, so the images
    # it predicts live apart from test/, whose dataset.json is not an image.
    shutil.copytree(output / "test", output / "transform")
    for name in counts:
        (output / name / "dataset.json").write_text(
            json.dumps(schema.to_json(), indent=2), encoding="utf-8"
        )
    progress(STEP, 2, 3, "profiling")
    per_class = {
        label: sum(1 for _, cls in dataset.files if cls == label) for label in dataset.classes
    }
    return {
        "dataset": path.name,
        "format": "zip",
        "rows": len(dataset.files) + len(dataset.skipped),
        "rows_used": len(dataset.files),
        "images_skipped": dataset.skipped,
        "files_ignored": dataset.ignored,
        "target": {
            "name": "class",
            "task": "image_classification",
            "classes": dataset.classes,
            "balance": {"counts": per_class},
        },
        "inferences": [
            vars(Inference("task", "image_classification", "a zip of images in class folders")),
            vars(Inference("target", "class", "the name of the folder holding each image")),
        ],
        "splits": {name: sum(per.values()) for name, per in counts.items()},
        "split_classes": counts,
    }


OUTPUTS = ("train", "validation", "test", "transform", "profile.json")


def clear_outputs(output: Path) -> None:
    """A retried job starts clean; only what this job writes is removed."""
    output.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        path = output / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def main(args: argparse.Namespace) -> None:
    options = load_options(args)
    split = {**DEFAULT_SPLIT, **options.get("split", {})}
    if split["validation"] + split["test"] >= 0.8:
        raise InvalidOption(
            "split", "validation + test must leave at least 20% of the rows to train on"
        )
    path = dataset_file(args.input)
    output: Path = args.output
    clear_outputs(output)
    if dataset_format(path) == "zip":
        profile = preprocess_images(path, output, options, split)
    else:
        profile = preprocess_table(path, output, options, split)
    profile["options"] = options
    profile["split_settings"] = split
    (output / "profile.json").write_text(
        json.dumps(profile, indent=2, default=str), encoding="utf-8"
    )
    progress(STEP, 5, 5, f"{profile['rows_used']} rows split {profile['splits']}")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.processing_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
