"""Failures a user can act on, and the wrapper that turns any failure into the contract's file.

A job never ends in a bare stack trace: ``run_job`` writes one readable paragraph to the
failure file SageMaker reads (training: ``/opt/ml/output/failure`` → FailureReason;
processing: ``/opt/ml/output/message`` → ExitMessage) and returns a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
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


def write_failure(failure_file: Path, text: str) -> None:
    failure_file.parent.mkdir(parents=True, exist_ok=True)
    failure_file.write_text(text[:FAILURE_TEXT_LIMIT], encoding="utf-8")


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
