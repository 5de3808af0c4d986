"""Writes a generated binary classification problem as a CSV with a header.

    python make_data.py /tmp/problem.csv [--rows 800] [--seed 7]

scikit-learn's ``make_classification`` with a fixed seed: 8 features ``x1`` … ``x8``, of which
4 carry the signal, 2 are linear mixes of those and 2 are noise; 3% of the labels are flipped,
so no model can be perfect. The ``label`` column (0 or 1) is last, as a spreadsheet would
have it; the split step moves it first, as the SageMaker XGBoost convention has it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_classification


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, default=800)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    features, labels = make_classification(
        n_samples=args.rows,
        n_features=8,
        n_informative=4,
        n_redundant=2,
        flip_y=0.03,
        class_sep=1.0,
        shuffle=False,  # keeps the informative features first: x1-x4, then x5-x6, then noise
        random_state=args.seed,
    )
    table = pd.DataFrame(features.round(5), columns=[f"x{i}" for i in range(1, 9)])
    table["label"] = labels
    # shuffle=False also orders the rows by class; mix them, or the file reads oddly.
    table = table.sample(frac=1.0, random_state=args.seed).reset_index(drop=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False)
    print(f"wrote {len(table)} rows ({int(table['label'].sum())} positive) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
