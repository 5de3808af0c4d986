"""Processing step 1 of 4, read: the dropped CSV as a table of text with plain column names.

Reads every .csv in /opt/ml/processing/input/raw (the dropped file keeps its own name there),
stacks them, and writes /opt/ml/processing/output/table/table.csv with the headers made
snake_case (``Sample ID`` → ``sample_id``). Every value stays text: clean decides what is a
number and what is missing.

The paths are SageMaker's, written out as they are: the script runs unchanged in a
SageMaker processing job.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

INPUT = Path("/opt/ml/processing/input/raw")
OUTPUT = Path("/opt/ml/processing/output/table")
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def snake_case(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def main() -> int:
    files = sorted(INPUT.rglob("*.csv"))
    if not files:
        found = ", ".join(path.name for path in INPUT.rglob("*")) or "nothing"
        raise Failure(f"no .csv file in the dropped data ({found})")
    tables = [pd.read_csv(path, dtype=str, keep_default_na=False) for path in files]
    table = pd.concat(tables, ignore_index=True)
    table.columns = [snake_case(str(name)) for name in table.columns]
    repeated = table.columns[table.columns.duplicated()].tolist()
    if repeated:
        raise Failure(f"two columns have the same name once made snake_case: {repeated}")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUTPUT / "table.csv", index=False)
    print(f"read {len(table)} rows x {table.shape[1]} columns from {[p.name for p in files]}")
    return 0


def run() -> int:
    try:
        return main()
    except Failure as failure:
        print(f"read failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run())
