"""The model and the in-process baseline for bench/endpoints.ts.

Trains a model with modeldrop's own jobs on a generated mixed-type table (bench/ml_pipeline.py's
generator: floats with missing values, counts, categories, a yes/no column), packs it as the
pipeline packs it (model.tar.gz), writes the request bodies the benchmark sends (1 and 100 CSV
rows with a header), and times the same serving handlers the endpoint runs (input_fn, predict_fn,
output_fn from modeldrop_ml.serving) called in this process, so the endpoint's figures have the
model's own cost to be compared with. Prints one JSON line.

    .venv/bin/python bench/endpoint_model.py --out DIR
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ml_pipeline import generate, run_job
from modeldrop_ml import serving

ROWS = 4000
SAMPLES = {1: 300, 100: 100}


def train(csv: Path, work: Path) -> Path:
    processed, model = work / "processed", work / "model"
    run_job("preprocess", ["--input", str(csv), "--output", str(processed)], work)
    run_job(
        "train",
        [
            "--train",
            str(processed / "train"),
            "--validation",
            str(processed / "validation"),
            "--model-dir",
            str(model),
            "--preset",
            "fast",
        ],
        work,
    )
    return model


def bodies(csv_path: Path, out: Path) -> dict[int, Path]:
    """The table's first rows without the target, with a header, as a client sends them."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        first = [row for _, row in zip(range(max(SAMPLES)), reader, strict=False)]
    target = header.index("target")
    written = {}
    for rows in SAMPLES:
        path = out / f"rows-{rows}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in [header, *first[:rows]]:
                writer.writerow([cell for i, cell in enumerate(row) if i != target])
        written[rows] = path
    return written


def in_process(model_dir: Path, requests: dict[int, Path]) -> dict[str, dict[str, float]]:
    handlers = serving.load_handlers({}, model_dir)
    model = handlers.load(str(model_dir))
    figures = {}
    for rows, path in requests.items():
        body = path.read_bytes()
        for _ in range(20):  # warm-up: imports, caches
            handlers.transform(model, body, "text/csv", "application/jsonlines")
        times = []
        for _ in range(SAMPLES[rows]):
            started = time.perf_counter()
            handlers.transform(model, body, "text/csv", "application/jsonlines")
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        figures[str(rows)] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
        }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    csv = generate(ROWS)
    with tempfile.TemporaryDirectory(prefix="modeldrop-bench-endpoint-") as scratch:
        model_dir = train(csv, Path(scratch))
        archive = args.out / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for item in sorted(model_dir.iterdir()):
                tar.add(item, arcname=item.name)
        requests = bodies(csv, args.out)
        figures = in_process(model_dir, requests)
    result = {
        "model": str(archive),
        "requests": {str(rows): str(path) for rows, path in requests.items()},
        "inProcess": figures,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
