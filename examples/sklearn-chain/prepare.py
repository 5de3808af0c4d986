"""Processing step 3 of 4, prepare: the features to learn from, split into train and test.

Reads /opt/ml/processing/input/clean/clean.csv (clean's output), drops ``sample_id`` (an id
teaches nothing) and columns with no values at all, and splits the rows, stratified by
diagnosis and seeded. Writes:

    /opt/ml/processing/output/train/train.csv   features, then diagnosis (with a header)
    /opt/ml/processing/output/test/test.csv     the same columns, the held-out rows
    /opt/ml/processing/output/batch/batch.csv   the test rows' features only, no header: what
                                                batch transform sends the model

Options (the step's arguments in modeldrop.json): ``--test-fraction 0.2 --seed 7``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

INPUT = Path("/opt/ml/processing/input/clean/clean.csv")
TRAIN = Path("/opt/ml/processing/output/train")
TEST = Path("/opt/ml/processing/output/test")
BATCH = Path("/opt/ml/processing/output/batch")
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage

TARGET = "diagnosis"
NOT_FEATURES = ["sample_id"]


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Split the cleaned table into train and test.")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    table = pd.read_csv(INPUT)
    empty = [column for column in table.columns if table[column].isna().all()]
    features = [c for c in table.columns if c not in [TARGET, *NOT_FEATURES, *empty]]
    if not features:
        raise Failure("no feature columns are left after dropping ids and empty columns")
    counts = table[TARGET].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise Failure(f"each diagnosis needs at least two rows to split; found {counts.to_dict()}")
    train, test = train_test_split(
        table[[*features, TARGET]],
        test_size=args.test_fraction,
        stratify=table[TARGET],
        random_state=args.seed,
    )
    for folder in (TRAIN, TEST, BATCH):
        folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(TRAIN / "train.csv", index=False)
    test.to_csv(TEST / "test.csv", index=False)
    test[features].to_csv(BATCH / "batch.csv", index=False, header=False)
    print(
        f"{len(features)} features; {len(train)} train and {len(test)} test rows"
        f"{'; dropped empty columns ' + ', '.join(empty) if empty else ''}"
    )
    return 0


def run(argv: list[str]) -> int:
    try:
        return main(parse_args(argv))
    except Failure as failure:
        print(f"prepare failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
