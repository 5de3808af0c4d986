"""What a job prints while it works.

Progress lines are for machines: one line each, ``MODELDROP_PROGRESS`` followed by a space and
a JSON object ``{"step": str, "done": int, "total": int, "message": str}``. ``done`` counts up
to ``total`` within a step; a step may be reported any number of times. The orchestrator reads
them from the job's log to show live progress. Every other line is for people.

At exit a job prints one ``MODELDROP_RESOURCES`` line in the same style with its wall time and
memory (``rss_after_imports_mb``, ``peak_rss_mb``), which the benchmarks and cost notes read.
"""

from __future__ import annotations

import json
import resource
import sys
import time

PROGRESS_PREFIX = "MODELDROP_PROGRESS"
RESOURCES_PREFIX = "MODELDROP_RESOURCES"

_started = time.monotonic()


def progress(step: str, done: int, total: int, message: str = "") -> None:
    line = json.dumps({"step": step, "done": int(done), "total": int(total), "message": message})
    print(f"{PROGRESS_PREFIX} {line}", flush=True)


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def current_rss_mb() -> float:
    """Resident memory now, from /proc (Linux); peak memory where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def report_resources(job: str, rss_after_imports_mb: float) -> None:
    line = json.dumps(
        {
            "job": job,
            "wall_s": round(time.monotonic() - _started, 3),
            "rss_after_imports_mb": round(rss_after_imports_mb, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    )
    print(f"{RESOURCES_PREFIX} {line}", flush=True)
