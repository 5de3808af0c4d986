"""Processing step: split a CSV with a header into train, validation and test, label first.

Reads the dropped CSV from --input (default /opt/ml/processing/input/raw; the file keeps its
own name there). The label column (``--target``) must hold two values; they become 0 and 1 in
sorted order (``no``/``yes`` → 0/1). Writes, under --output (/opt/ml/processing/output):

    train/train.csv, validation/validation.csv, test/test.csv
        label first, then the features; no header (the SageMaker XGBoost convention)
    train/features.json    the feature names in column order, and the classes
    batch/batch.csv        the test rows' features only: what batch transform sends the model

The split is a seeded shuffle: ``--validation-fraction 0.15 --test-fraction 0.15 --seed 7``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Split a CSV for XGBoost.")
    parser.add_argument("--input", type=Path, default=Path("/opt/ml/processing/input/raw"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/output"))
    parser.add_argument("--target", default="label")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def read_table(folder: Path) -> pd.DataFrame:
    files = sorted(folder.rglob("*.csv"))
    if len(files) != 1:
        found = ", ".join(path.name for path in folder.rglob("*")) or "nothing"
        raise Failure(f"expected one .csv in the dropped data, found {found}")
    return pd.read_csv(files[0])


def write(rows: pd.DataFrame, path: Path, header: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False, header=header)


def main(args: argparse.Namespace) -> int:
    table = read_table(args.input)
    if args.target not in table.columns:
        raise Failure(
            f"no {args.target!r} column (--target); the columns are {list(table.columns)}"
        )
    features = [column for column in table.columns if column != args.target]
    text = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        raise Failure(f"XGBoost needs numbers; these columns hold text: {text[:10]}")
    table = table.dropna(subset=[args.target])
    classes = sorted(table[args.target].unique().tolist())
    if len(classes) != 2:
        raise Failure(f"{args.target} must hold two values, not {len(classes)}: {classes[:10]}")
    labelled = pd.DataFrame({args.target: (table[args.target] == classes[1]).astype(int)})
    labelled = pd.concat([labelled, table[features]], axis=1)

    order = np.random.default_rng(args.seed).permutation(len(labelled))
    test_rows = round(len(order) * args.test_fraction)
    validation_rows = round(len(order) * args.validation_fraction)
    if min(test_rows, validation_rows, len(order) - test_rows - validation_rows) < 1:
        raise Failure(f"{len(order)} rows are too few to split three ways")
    test = labelled.iloc[order[:test_rows]]
    validation = labelled.iloc[order[test_rows : test_rows + validation_rows]]
    train = labelled.iloc[order[test_rows + validation_rows :]]

    write(train, args.output / "train" / "train.csv")
    write(validation, args.output / "validation" / "validation.csv")
    write(test, args.output / "test" / "test.csv")
    write(test[features], args.output / "batch" / "batch.csv")
    schema = {"features": features, "classes": [str(c) for c in classes]}
    (args.output / "train" / "features.json").write_text(json.dumps(schema, indent=2))
    print(
        f"{len(features)} features; {len(train)} train, {len(validation)} validation and"
        f" {len(test)} test rows; classes {schema['classes']} are 0 and 1"
    )
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"split failed: {failure}", file=sys.stderr)
        try:
            FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
            FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        except OSError:
            pass  # outside a container there may be no /opt/ml to write to
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
