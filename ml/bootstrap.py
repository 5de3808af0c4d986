"""Entrypoint of modeldrop's SageMaker processing jobs (standard library only).

SageMaker hands a processing job its code archive as a ProcessingInput and does not unpack
it. This script, the job's ContainerEntrypoint, unpacks ``sourcedir.tar.gz`` safely, installs
its ``requirements.txt`` (the pins of ml/requirements-cloud.txt) and runs one job module:

    python3 bootstrap.py --code /opt/ml/processing/input/code/sourcedir.tar.gz \
        --job preprocess [job arguments ...]

It exits with the job's exit code. When it cannot start the job (unreadable archive, failed
install, unknown job) it writes the reason to /opt/ml/output/message, which SageMaker reports
as the job's ExitMessage. MODELDROP_OPT_ML moves /opt/ml, as for the jobs themselves.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

JOBS = ("preprocess", "evaluate")
MESSAGE_LIMIT = 1024


def _message_file() -> Path:
    return Path(os.environ.get("MODELDROP_OPT_ML", "/opt/ml")) / "output" / "message"


class BootstrapFailed(Exception):
    pass


def unpack(archive: Path, destination: Path) -> None:
    if not archive.is_file():
        raise BootstrapFailed(f"the code archive {archive.name} is missing")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise BootstrapFailed(
            f"the code archive {archive.name} cannot be unpacked: {error}"
        ) from error
    if not (destination / "modeldrop_ml").is_dir():
        raise BootstrapFailed(f"the code archive {archive.name} holds no modeldrop_ml package")


def _pins(requirements: Path) -> dict[str, str] | None:
    """``name==version`` lines by name, or None when a line is anything else (let pip decide)."""
    pins: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or any(c in version for c in ";[<>~!=, "):
            return None
        pins[name.strip()] = version.strip()
    return pins


def already_installed(requirements: Path) -> bool:
    """True when every pin is installed at exactly its version, as pip would find."""
    pins = _pins(requirements)
    if pins is None:
        return False
    for name, version in pins.items():
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def install_requirements(code: Path) -> None:
    requirements = code / "requirements.txt"
    if not requirements.is_file():
        return
    # pip takes about half a second to find nothing to do; an image (or a local virtualenv)
    # that already has every pin skips it.
    if already_installed(requirements):
        return
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise BootstrapFailed(f"installing the job's requirements failed: {last}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bootstrap")
    parser.add_argument("--code", type=Path, required=True)
    parser.add_argument("--job", required=True)
    args, job_args = parser.parse_known_args(argv)
    try:
        if args.job not in JOBS:
            raise BootstrapFailed(
                f"unknown job {args.job!r}; processing jobs are {', '.join(JOBS)}"
            )
        with tempfile.TemporaryDirectory(prefix="modeldrop-code-") as scratch:
            code = Path(scratch)
            unpack(args.code, code)
            install_requirements(code)
            environment = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(code), os.environ.get("PYTHONPATH")])
                ),
            }
            command = [sys.executable, "-m", f"modeldrop_ml.{args.job}", *job_args]
            return subprocess.run(command, cwd=code, env=environment, check=False).returncode
    except BootstrapFailed as failure:
        message = _message_file()
        message.parent.mkdir(parents=True, exist_ok=True)
        message.write_text(str(failure)[:MESSAGE_LIMIT], encoding="utf-8")
        print(f"bootstrap failed: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
