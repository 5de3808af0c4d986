"""The local stand-in for SageMaker's serving container running a batch transform job.

SageMaker splits each input object into mini-batches (``SplitType=Line``: whole lines, at most
``MaxPayloadInMB`` per request with ``BatchStrategy=MultiRecord``; ``SingleRecord``: one line
per request; ``SplitType=None``: the whole object per request, as for images), sends each to
the model's handlers, and writes ``<input name>.out`` with the responses joined by newlines
(``AssembleWith=Line``). This module does the same with the handlers of ``inference``, so the
local cloud and the benchmarks exercise exactly the code SageMaker serves.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import env, inference
from .artifact import unpack_model
from .errors import JobArgumentParser, JobFailed, run_job
from .progress import log, progress

STEP = "transform"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="batch_transform", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="model.tar.gz, or its folder")
    parser.add_argument("--input", type=Path, required=True, help="a file, or a folder of files")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--content-type", default=inference.CSV)
    parser.add_argument("--accept", default=inference.JSON_LINES)
    parser.add_argument("--split-type", choices=["Line", "None"], default="Line")
    parser.add_argument(
        "--batch-strategy", choices=["MultiRecord", "SingleRecord"], default="MultiRecord"
    )
    parser.add_argument("--max-payload-mb", type=int, default=6)
    return parser.parse_args(argv)


def _inputs(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(
        item for item in path.rglob("*") if item.is_file() and not item.name.startswith(".")
    )
    if not files:
        raise JobFailed(f"no input files under {path.name}")
    return files


def _line_batches(path: Path, limit: int, single: bool) -> Iterator[tuple[int, bytes]]:
    """(the file line a request starts on, the request's bytes)."""
    batch: list[bytes] = []
    size = 0
    first = 1
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if len(line) > limit:
                raise JobFailed(
                    f"{path.name}, line {number}: the line is larger than MaxPayloadInMB "
                    f"({limit} bytes)"
                )
            if batch and (single or size + len(line) > limit):
                yield first, b"".join(batch)
                batch, size, first = [], 0, number
            batch.append(line)
            size += len(line)
    if batch:
        yield first, b"".join(batch)


def transform(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpack_model(args.model, Path(scratch))
        model = inference.model_fn(str(folder))
    limit = args.max_payload_mb * 2**20
    files = _inputs(args.input)
    root = args.input if args.input.is_dir() else args.input.parent
    for number, path in enumerate(files, start=1):
        target = args.output / f"{path.relative_to(root)}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        requests = (
            [(1, path.read_bytes())]
            if args.split_type == "None"
            else _line_batches(path, limit, args.batch_strategy == "SingleRecord")
        )
        rows = 0
        with target.open("w", encoding="utf-8") as out:
            for first_line, body in requests:
                try:
                    records = inference.predict_fn(
                        inference.input_fn(body, args.content_type), model
                    )
                    out.write(inference.output_fn(records, args.accept))
                except inference.InvalidInput as error:
                    where = path.name
                    if error.line is not None:
                        where += f", line {first_line + error.line - 1}"
                    raise JobFailed(f"{where}: {error.reason}") from error
                rows += len(records)
        log(f"{path.name}: {rows} predictions → {target.name}")
        progress(STEP, number, len(files), f"{path.name}: {rows} rows")


def run(argv: list[str] | None = None) -> int:
    failure = env.base_dir() / "output" / "failure"
    return run_job(STEP, failure, lambda: transform(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
