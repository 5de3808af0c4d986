"""Processing step 2 of 4, clean: numbers as numbers, the diagnosis as 0/1, no repeats.

Reads /opt/ml/processing/input/table/table.csv (read's output) and writes
/opt/ml/processing/output/clean/clean.csv:

- ``diagnosis`` becomes 1 (malignant) or 0 (benign) whatever its spelling (``M``,
  `` Malignant ``, ``b``); rows without one are dropped, since they cannot be learnt from;
- every other column but ``sample_id`` becomes a number: thousands separators and a unit
  after the number are dropped (``"1,001.0 um2"`` → 1001.0), and ``NA``, ``n/a``, ``?`` or an
  empty field become missing (normalize fills them in);
- rows repeated exactly are kept once.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

INPUT = Path("/opt/ml/processing/input/table/table.csv")
OUTPUT = Path("/opt/ml/processing/output/clean")
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage

TARGET = "diagnosis"
ID_COLUMN = "sample_id"
DIAGNOSES = {"malignant": 1, "m": 1, "benign": 0, "b": 0}
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
# A number at the start of a value, once thousands separators are gone: "1001.0 um2" → 1001.0.
LEADING_NUMBER = r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def to_number(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    text = text.where(~text.str.lower().isin(MISSING))
    number = text.str.replace(",", "", regex=False).str.extract(LEADING_NUMBER, expand=False)
    return pd.to_numeric(number, errors="coerce")


def main() -> int:
    table = pd.read_csv(INPUT, dtype=str, keep_default_na=False)
    if TARGET not in table.columns:
        raise Failure(f"no {TARGET} column; the columns are {list(table.columns)}")
    label = table[TARGET].str.strip().str.lower().map(DIAGNOSES)
    unknown = sorted(set(table.loc[label.isna(), TARGET].str.strip()) - {""})
    if unknown:
        raise Failure(f"{TARGET} values that are neither malignant nor benign: {unknown[:10]}")
    cleaned = table[[column for column in [ID_COLUMN] if column in table.columns]].copy()
    for column in table.columns:
        if column not in (TARGET, ID_COLUMN):
            cleaned[column] = to_number(table[column])
    cleaned[TARGET] = label
    unlabelled = int(cleaned[TARGET].isna().sum())
    cleaned = cleaned.dropna(subset=[TARGET])
    cleaned[TARGET] = cleaned[TARGET].astype(int)
    before = len(cleaned)
    cleaned = cleaned.drop_duplicates()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    cleaned.to_csv(OUTPUT / "clean.csv", index=False)
    features = cleaned.drop(columns=[TARGET, ID_COLUMN], errors="ignore")
    print(
        f"{len(cleaned)} rows kept: {unlabelled} without a diagnosis and"
        f" {before - len(cleaned)} repeats dropped; {int(features.isna().sum().sum())}"
        f" missing values left in {int(features.isna().any().sum())} columns"
    )
    return 0


def run() -> int:
    try:
        return main()
    except Failure as failure:
        print(f"clean failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run())
