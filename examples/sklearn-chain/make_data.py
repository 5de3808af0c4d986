"""Writes a deliberately messy copy of scikit-learn's bundled breast-cancer table as a CSV.

    python make_data.py /tmp/cancer.csv [--seed 7]

The 569 samples of ``sklearn.datasets.load_breast_cancer`` (no download) with the mess the
clean and normalize steps exist for:

- headers as a spreadsheet writes them (``Sample ID``, ``mean radius``, ``Diagnosis``);
- ``mean area`` as text with thousands separators and a unit (``"1,001.0 um2"``);
- the diagnosis spelt several ways (``Malignant``, `` benign ``, ``M``, ``B``), a few missing;
- about 3% of five columns' values missing, written as ``""``, ``NA``, ``n/a`` or ``?``;
- a handful of rows repeated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

MISSING_MARKERS = ["", "NA", "n/a", "?"]
SPELLINGS = {
    "malignant": ["malignant", "Malignant", " MALIGNANT ", "M"],
    "benign": ["benign", "Benign", "benign ", "B"],
}
GAPPY_COLUMNS = ["mean texture", "mean smoothness", "worst radius", "area error", "mean area"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the CSV file to write")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    bundled = load_breast_cancer(as_frame=True)
    table = bundled.data.astype(object)
    table["mean area"] = [f"{value:,.1f} um2" for value in bundled.data["mean area"]]
    for column in GAPPY_COLUMNS:
        gaps = rng.random(len(table)) < 0.03
        table.loc[gaps, column] = rng.choice(MISSING_MARKERS, size=int(gaps.sum()))
    # sklearn's target is 0 = malignant, 1 = benign.
    names = ["malignant" if target == 0 else "benign" for target in bundled.target]
    table["Diagnosis"] = [rng.choice(SPELLINGS[name]) for name in names]
    table.loc[rng.choice(len(table), size=3, replace=False), "Diagnosis"] = ""
    table.insert(0, "Sample ID", [f"BC-{index:04d}" for index in range(len(table))])
    repeated = table.iloc[rng.choice(len(table), size=6, replace=False)]
    table = pd.concat([table, repeated], ignore_index=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False)
    print(f"wrote {len(table)} rows x {table.shape[1]} columns to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args(sys.argv[1:])))
