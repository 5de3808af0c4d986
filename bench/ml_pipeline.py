"""Benchmark: preprocess → train → evaluate → batch transform on generated mixed-type tables.

Each job runs as its own process, exactly as the local cloud runs it, and reports its wall time
and memory on its MODELDROP_RESOURCES line. Training uses a fixed 100 boosting rounds (early
stopping off) so the work is comparable across sizes. Targets checked:

* time grows no worse than linearly: time(largest) / time(smallest) ≤ 12 × for a 10× size step;
* memory: at the largest size, each job's peak above its memory right after imports stays under
  4 × the CSV's size.

    .venv/bin/python bench/ml_pipeline.py                 # 100k and 1M rows
    .venv/bin/python bench/ml_pipeline.py --rows 2000 20000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
TIME_RATIO_LIMIT = 12.0
MEMORY_RATIO_LIMIT = 4.0
CHUNK = 100_000


def generate(rows: int, seed: int = 0) -> Path:
    """20 columns: 11 floats (5% missing), 2 integers, 5 categories, 1 yes/no, the target."""
    path = WORK / f"mixed-{rows}-{seed}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cardinalities = [3, 8, 15, 30, 50]
    partial = path.with_suffix(".partial")
    writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        columns: dict[str, pa.Array] = {}
        floats = rng.normal(size=(n, 11)).round(4)
        for i in range(11):
            values = floats[:, i].copy()
            mask = rng.random(n) < 0.05
            columns[f"num_{i}"] = pa.array(values, mask=mask)
        columns["count_a"] = pa.array(rng.integers(0, 1000, n))
        columns["count_b"] = pa.array(rng.integers(0, 20, n))
        codes = [rng.integers(0, size, n) for size in cardinalities]
        for i, (size, code) in enumerate(zip(cardinalities, codes, strict=True)):
            labels = np.array([f"cat{i}_{v}" for v in range(size)])
            columns[f"cat_{i}"] = pa.array(labels[code])
        flag = rng.random(n) < 0.4
        columns["member"] = pa.array(np.where(flag, "yes", "no"))
        score = (
            floats[:, 0]
            + 0.8 * floats[:, 1]
            - 0.5 * floats[:, 2]
            + (codes[1] % 3 == 0)
            + 0.7 * flag
        )
        columns["target"] = pa.array(np.where(score + rng.normal(0, 1, n) > 0.8, "yes", "no"))
        table = pa.table(columns)
        if writer is None:
            writer = pacsv.CSVWriter(partial, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    partial.rename(path)
    return path


def run_job(module: str, args: list[str], opt_ml: Path) -> dict:
    environment = {**os.environ, "MODELDROP_OPT_ML": str(opt_ml), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", f"modeldrop_ml.{module}", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    outside = time.monotonic() - started
    if result.returncode != 0:
        failure = ""
        for name in ("failure", "message"):
            path = opt_ml / "output" / name
            if path.exists():
                failure = path.read_text()
        sys.exit(f"{module} failed ({result.returncode}): {failure}\n{result.stderr[-2000:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("MODELDROP_RESOURCES "))
    figures = json.loads(line.split(" ", 1)[1])
    figures["process_wall_s"] = round(outside, 2)
    figures["peak_above_imports_mb"] = round(
        figures["peak_rss_mb"] - figures["rss_after_imports_mb"], 1
    )
    return figures


def run_size(rows: int) -> dict:
    csv = generate(rows)
    csv_mb = csv.stat().st_size / 2**20
    with tempfile.TemporaryDirectory(prefix="modeldrop-bench-") as scratch:
        work = Path(scratch)
        processed, model = work / "processed", work / "model"
        steps = {
            "preprocess": run_job(
                "preprocess", ["--input", str(csv), "--output", str(processed)], work
            ),
            "train": run_job(
                "train",
                [
                    "--train",
                    str(processed / "train"),
                    "--validation",
                    str(processed / "validation"),
                    "--model-dir",
                    str(model),
                    "--num_round",
                    "100",
                    "--early_stopping_rounds",
                    "1000",
                ],
                work,
            ),
            "evaluate": run_job(
                "evaluate",
                [
                    "--model",
                    str(model),
                    "--test",
                    str(processed / "test"),
                    "--output",
                    str(work / "evaluation"),
                ],
                work,
            ),
            "transform": run_job(
                "batch_transform",
                [
                    "--model",
                    str(model),
                    "--input",
                    str(processed / "transform" / "test.csv"),
                    "--output",
                    str(work / "predictions"),
                ],
                work,
            ),
        }
    for figures in steps.values():
        figures["memory_ratio"] = round(figures["peak_above_imports_mb"] / csv_mb, 2)
    return {
        "rows": rows,
        "csv_mb": round(csv_mb, 1),
        "steps": steps,
        "total_wall_s": round(sum(s["process_wall_s"] for s in steps.values()), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sizes = [run_size(rows) for rows in sorted(args.rows)]
    lines = [
        "| rows | CSV MB | step | wall s | peak above imports MB | × CSV |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for step, f in size["steps"].items():
            lines.append(
                f"| {size['rows']:,} | {size['csv_mb']} | {step} | {f['process_wall_s']} | {f['peak_above_imports_mb']} | {f['memory_ratio']} |"
            )
        lines.append(
            f"| {size['rows']:,} | {size['csv_mb']} | **total** | {size['total_wall_s']} | | |"
        )
    checks = []
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        factor = large["rows"] / small["rows"]
        limit = TIME_RATIO_LIMIT * factor / 10
        ratio = large["total_wall_s"] / small["total_wall_s"]
        checks.append(
            (
                f"time {large['rows']:,} / {small['rows']:,} rows = {ratio:.2f} ≤ {limit:.1f}",
                ratio <= limit,
            )
        )
    largest = sizes[-1]
    for step, f in largest["steps"].items():
        ok = f["memory_ratio"] < MEMORY_RATIO_LIMIT
        checks.append(
            (
                f"{step} peak above imports at {largest['rows']:,} rows = {f['memory_ratio']} × CSV < {MEMORY_RATIO_LIMIT}",
                ok,
            )
        )
    lines.append("")
    lines += [f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in checks]
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
        "sizes": sizes,
        "checks": [{"check": text, "pass": ok} for text, ok in checks],
    }
    (RESULTS / "ml_pipeline.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "ml_pipeline.md").write_text(
        f"# ML pipeline benchmark ({record['date']}, {os.cpu_count()} CPUs)\n\n{report}\n"
    )
    return 1 if args.strict and not all(ok for _, ok in checks) else 0


if __name__ == "__main__":
    raise SystemExit(main())
