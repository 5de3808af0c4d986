"""Failures a user can act on, and the wrapper that turns any failure into the contract's file.

A job never ends in a bare stack trace: ``run_job`` writes one readable paragraph to the
failure file SageMaker reads (training: ``/opt/ml/output/failure`` → FailureReason;
processing: ``/opt/ml/output/message`` → ExitMessage) and returns a non-zero exit code:
1 when the input or the options are at fault (``JobFailed``), 2 for a modeldrop bug.

The user reads that paragraph in the run's notice, so it never shows a machine path: every
absolute path in it is reduced to its last part (the dataset's file name), here, in the one
place that writes the file. The readers of users' data name files by their name at the source
too, and run the libraries that parse the data under ``reading_user_data``, so a library's
complaint about malformed data (pyarrow, zipfile, zlib, Pillow, pandas, csv, codecs) becomes a
``DatasetRejected`` naming the file, while a bug anywhere else still exits 2.
"""

from __future__ import annotations

import argparse
import csv
import lzma
import re
import sys
import traceback
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from .progress import current_rss_mb, log, report_resources

# SageMaker keeps the first 1024 characters of FailureReason / ExitMessage.
FAILURE_TEXT_LIMIT = 1024

EXIT_REJECTED = 1
EXIT_INTERNAL = 2


class JobFailed(Exception):
    """A failure caused by the input or the options; the message says what to change."""


class DatasetRejected(JobFailed):
    """The dropped data cannot be used as it is."""


class InvalidOption(JobFailed):
    """A run option or hyperparameter is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"option {field}: {message}")
        self.field = field


class ModelArtifactInvalid(JobFailed):
    """The model artifact is missing or was not made by this version of modeldrop."""


class JobArgumentParser(argparse.ArgumentParser):
    """argparse that raises JobFailed instead of exiting, so bad arguments reach the failure file."""

    def error(self, message: str) -> NoReturn:
        raise JobFailed(f"{self.prog}: invalid arguments: {message}")


# An absolute POSIX path: a slash that does not follow a word, a dot, a colon or a slash
# (so "text/csv", "1/2" and "s3://bucket/key" are left alone), then its parts.
_PATH_PART = r"[^\s/'\"()\[\]<>,;:|`]+"
_ABSOLUTE_PATH = re.compile(rf"(?<![\w.:/~\\-])/(?:{_PATH_PART}/)*({_PATH_PART})")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def clean_message(text: str) -> str:
    """Text fit for a user: absolute paths reduced to their last part, object reprs and line
    breaks removed."""
    text = _ABSOLUTE_PATH.sub(lambda match: match.group(1), text)
    text = _OBJECT_REPR.sub("the data", text)
    return " ".join(text.split())


def _data_library_errors() -> tuple[type[BaseException], ...]:
    """What the libraries that parse users' files raise for malformed data.

    Only libraries already imported are asked for their types: one that is not loaded cannot
    have raised, and the failure path should not import pyarrow or Pillow to find out.
    """
    kinds: list[type[BaseException]] = [
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        UnicodeError,
        csv.Error,
    ]
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        kinds.append(pyarrow.ArrowException)
    pillow = sys.modules.get("PIL.Image")
    if pillow is not None:
        kinds += [pillow.UnidentifiedImageError, pillow.DecompressionBombError]
    pandas_errors = sys.modules.get("pandas.errors")
    if pandas_errors is not None:
        kinds += [pandas_errors.ParserError, pandas_errors.EmptyDataError]
    return tuple(kinds)


@contextmanager
def reading_user_data(name: str, advice: str = "") -> Iterator[None]:
    """Turns a data library's error while it parses the user's file into DatasetRejected.

    ``name`` is the file's name as the user knows it; ``advice`` what to do about it. Errors
    of other kinds (a KeyError, an AttributeError: our bugs) pass through unchanged.
    """
    try:
        yield
    except (JobFailed, MemoryError):  # pyarrow's ArrowMemoryError is both kinds
        raise
    except _data_library_errors() as error:
        detail = clean_message(str(error)) or type(error).__name__
        ending = f" {advice}" if advice else ""
        raise DatasetRejected(f"{name} cannot be read: {detail}.{ending}") from error


def write_failure(failure_file: Path, text: str) -> None:
    failure_file.parent.mkdir(parents=True, exist_ok=True)
    failure_file.write_text(clean_message(text)[:FAILURE_TEXT_LIMIT], encoding="utf-8")


def run_job(job: str, failure_file: Path, body: Callable[[], None]) -> int:
    """Runs a job body under the container contract and returns its exit code."""
    rss_after_imports = current_rss_mb()
    try:
        body()
        log(f"{job} finished")
        return 0
    except JobFailed as failure:
        text = str(failure)
        log(f"{job} failed: {text}")
        write_failure(failure_file, text)
        return EXIT_REJECTED
    except MemoryError:
        text = (
            f"{job} ran out of memory. Choose an instance type with more memory for this job "
            "(option instanceTypes) or drop a smaller dataset."
        )
        log(text)
        write_failure(failure_file, text)
        return EXIT_INTERNAL
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        text = (
            f"{job} failed unexpectedly: {type(error).__name__}: {error}. "
            "This is a modeldrop bug; the job log has the traceback."
        )
        write_failure(failure_file, text)
        return EXIT_INTERNAL
    finally:
        report_resources(job, rss_after_imports)
