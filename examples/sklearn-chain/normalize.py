"""Processing step 4 of 4, normalize: fill in missing values and scale, learnt on train only.

Reads /opt/ml/processing/input/train/train.csv (prepare's train output). Each feature's gaps
are filled with its median, then it is scaled to mean 0 and standard deviation 1. Writes:

    /opt/ml/processing/output/train/train.csv              the normalized train rows
    /opt/ml/processing/output/normalizer/normalizer.json   features, medians, means, scales

Only train rows are looked at, so nothing about the test rows leaks into the model. train.py
saves normalizer.json inside the model, which is how the model accepts raw, unscaled rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

INPUT = Path("/opt/ml/processing/input/train/train.csv")
TRAIN = Path("/opt/ml/processing/output/train")
NORMALIZER = Path("/opt/ml/processing/output/normalizer")
FAILURE_FILE = Path("/opt/ml/output/message")  # SageMaker shows it as the job's ExitMessage

TARGET = "diagnosis"


class Failure(Exception):
    """A problem with the data the user can fix; its text is the job's failure reason."""


def main() -> int:
    train = pd.read_csv(INPUT)
    if TARGET not in train.columns:
        raise Failure(f"no {TARGET} column in {INPUT}; is the input prepare/train?")
    features = [column for column in train.columns if column != TARGET]
    # A feature with no train values at all is filled with 0, which scales to 0.
    medians = train[features].median().fillna(0.0)
    filled = train[features].fillna(medians)
    means = filled.mean()
    # A constant column would divide by zero; scaling it by 1 leaves it at 0 after centring.
    scales = filled.std(ddof=0).replace(0.0, 1.0)
    normalized = (filled - means) / scales
    normalized[TARGET] = train[TARGET].to_numpy()
    TRAIN.mkdir(parents=True, exist_ok=True)
    NORMALIZER.mkdir(parents=True, exist_ok=True)
    normalized.to_csv(TRAIN / "train.csv", index=False)
    normalizer = {
        "features": features,
        "medians": [float(medians[f]) for f in features],
        "means": [float(means[f]) for f in features],
        "scales": [float(scales[f]) for f in features],
    }
    (NORMALIZER / "normalizer.json").write_text(json.dumps(normalizer, indent=2), encoding="utf-8")
    print(f"normalized {len(features)} features over {len(train)} train rows")
    return 0


def run() -> int:
    try:
        return main()
    except Failure as failure:
        print(f"normalize failed: {failure}", file=sys.stderr)
        FAILURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        FAILURE_FILE.write_text(str(failure), encoding="utf-8")
        return 1


if __name__ == "__main__":
    sys.exit(run())
