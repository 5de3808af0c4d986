"""The local stand-in for SageMaker's serving container running a batch transform job.

SageMaker splits each input object into mini-batches (``SplitType=Line``: whole lines, at most
``MaxPayloadInMB`` per request with ``BatchStrategy=MultiRecord``; ``SingleRecord``: one line
per request; ``SplitType=None``: the whole object per request, as for images), sends each to
the model's handlers, and writes ``<input name>.out`` with the responses joined by newlines
(``AssembleWith=Line``: a newline after each response that does not end with one). This module
does the same with the handlers the model's container environment names (``serving``): the
user's script for a model the SageMaker Python SDK made, ``inference``'s for modeldrop's own, so
the local cloud and the benchmarks exercise exactly the code SageMaker serves.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import env, inference, serving
from .artifact import check_artifact, unpack_model
from .errors import JobArgumentParser, JobFailed, run_job
from .progress import log, progress

STEP = "transform"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="batch_transform", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="model.tar.gz, or its folder")
    parser.add_argument("--input", type=Path, required=True, help="a file, or a folder of files")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--content-type", default=inference.CSV)
    parser.add_argument(
        "--accept", default="", help="none: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, as the toolkit"
    )
    parser.add_argument(
        "--code", type=Path, help="SAGEMAKER_SUBMIT_DIRECTORY's sourcedir.tar.gz, unpacked"
    )
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


def _count(prediction: object) -> int:
    """Rows in a prediction; a transform_fn's answer, which is not seen, counts as one."""
    try:
        return len(prediction)  # type: ignore[arg-type]
    except TypeError:
        return 1


def transform(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpack_model(args.model, Path(scratch), require_artifact=False)
        handlers = serving.from_environment(folder, args.code)
        if handlers.model_fn is inference.model_fn:
            check_artifact(folder, args.model)
        model = handlers.load(str(folder))
        _transform_files(args, handlers, model)


def _transform_files(args: argparse.Namespace, handlers: serving.Handlers, model: object) -> None:
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
        with target.open("wb") as out:
            for first_line, body in requests:
                try:
                    prediction, response = handlers.transform(
                        model, body, args.content_type, args.accept
                    )
                except inference.InvalidInput as error:
                    where = path.name
                    if error.line is not None:
                        where += f", line {first_line + error.line - 1}"
                    raise JobFailed(f"{where}: {error.reason}") from error
                except serving.HandlerFailed as error:
                    raise JobFailed(f"{path.name}, line {first_line}: {error}") from error
                data = response.encode("utf-8") if isinstance(response, str) else response
                out.write(data if not data or data.endswith(b"\n") else data + b"\n")
                rows += _count(prediction)
        log(f"{path.name}: {rows} predictions → {target.name}")
        progress(STEP, number, len(files), f"{path.name}: {rows} rows")


def run(argv: list[str] | None = None) -> int:
    failure = env.base_dir() / "output" / "failure"
    return run_job(STEP, failure, lambda: transform(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
