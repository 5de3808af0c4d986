"""Entrypoint of modeldrop's SageMaker processing jobs (standard library only).

SageMaker hands a processing job its code archive as a ProcessingInput and does not unpack
it. This script, the job's ContainerEntrypoint, unpacks ``sourcedir.tar.gz`` safely, installs
its ``requirements.txt`` and runs one of modeldrop's job modules, or a user's own script:

    python3 bootstrap.py --code /opt/ml/processing/input/code/sourcedir.tar.gz \
        --job preprocess [job arguments ...]
    python3 bootstrap.py --code /opt/ml/processing/input/code/sourcedir.tar.gz \
        --script preprocess.py [script arguments ...]

A script runs as the SageMaker Python SDK's FrameworkProcessor runs one: with this Python, in
the unpacked code folder (also on PYTHONPATH). Everything after ``--script <file>`` is the
script's. It exits with the job's exit code. When it cannot start the job (unreadable
archive, failed install, unknown job or script) or the script fails, it writes the reason to
/opt/ml/output/message, which SageMaker reports as the job's ExitMessage. MODELDROP_OPT_ML
moves /opt/ml, as for the jobs themselves. MODELDROP_REQUIREMENTS_SHA256, when it is the
sha256 of requirements.txt, says the environment has it installed already (the local cloud
sets it after installing it into a cached virtualenv); on AWS it is absent.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

JOBS = ("preprocess", "select", "evaluate")
MESSAGE_LIMIT = 1024
# stderr lines kept for the message: a traceback's end, and only that, of any length of output
STDERR_TAIL_LINES = 40
MESSAGE_LINES = 10


def _message_file() -> Path:
    return Path(os.environ.get("MODELDROP_OPT_ML", "/opt/ml")) / "output" / "message"


class BootstrapFailed(Exception):
    pass


def unpack(archive: Path, destination: Path) -> None:
    """Unpacks the archive; links or paths that would leave ``destination`` are refused."""
    if not archive.is_file():
        raise BootstrapFailed(f"the code archive {archive.name} is missing")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise BootstrapFailed(
            f"the code archive {archive.name} cannot be unpacked: {error}"
        ) from error


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


def _installed_by_the_local_cloud(requirements: Path) -> bool:
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    return os.environ.get("MODELDROP_REQUIREMENTS_SHA256") == digest


def install_requirements(code: Path) -> None:
    requirements = code / "requirements.txt"
    if not requirements.is_file():
        return
    # pip takes about half a second to find nothing to do; an image (or a local virtualenv)
    # that already has every pin skips it.
    if _installed_by_the_local_cloud(requirements) or already_installed(requirements):
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
        lines = result.stderr.strip().splitlines()
        errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR: ")]
        reason = (errors or lines or [f"pip exited with code {result.returncode}"])[-1]
        raise BootstrapFailed(f"requirements.txt did not install: {reason.strip()}")


def _code_listing(code: Path, limit: int = 20) -> str:
    files = sorted(
        path.relative_to(code).as_posix()
        for path in code.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    shown = ", ".join(files[:limit]) or "no files"
    return f"{shown}, …" if len(files) > limit else shown


def _script_path(code: Path, script: str) -> Path:
    path = (code / script).resolve()
    if not path.is_relative_to(code.resolve()) or not path.is_file():
        raise BootstrapFailed(
            f"the processing script {script} is not in the code archive "
            f"(it holds: {_code_listing(code)})"
        )
    return path


def _error_lines(stderr: list[str]) -> str:
    """From the last traceback on, else the last lines (a SyntaxError has no traceback)."""
    lines = [line.rstrip() for line in stderr]
    while lines and not lines[-1]:
        lines.pop()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (")]
    return "\n".join(lines[starts[-1] if starts else 0 :][-MESSAGE_LINES:])


def _failure_message(script: str, exit_code: int, stderr: list[str]) -> str:
    head = f"{script} failed (exit code {exit_code})"
    lines = _error_lines(stderr)
    if not lines:
        return head
    room = MESSAGE_LIMIT - len(head) - 2
    return f"{head}: {lines if len(lines) <= room else '…' + lines[-(room - 1) :]}"


def _run_streaming(
    command: list[str], cwd: Path, environment: dict[str, str]
) -> tuple[int, list[str]]:
    """Runs the command with its output going on to this job's as it comes, keeping the end
    of its stderr. A negative exit code (a signal) is given as a shell gives it, 128 + N."""
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    with subprocess.Popen(command, cwd=cwd, env=environment, stderr=subprocess.PIPE) as process:
        assert process.stderr is not None
        partial = b""
        # Chunks, not lines: a progress bar redrawn with \r shows as it is drawn.
        while chunk := os.read(process.stderr.fileno(), 65536):
            sys.stderr.buffer.write(chunk)
            sys.stderr.buffer.flush()
            *complete, partial = (partial + chunk).split(b"\n")
            tail.extend(line.decode("utf-8", "replace") for line in complete)
        if partial:
            tail.append(partial.decode("utf-8", "replace"))
        code = process.wait()
    return (code if code >= 0 else 128 - code), list(tail)


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="bootstrap", allow_abbrev=False)
    parser.add_argument("--code", type=Path, required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--job", help=f"one of modeldrop's jobs: {', '.join(JOBS)}")
    mode.add_argument(
        "--script", help="a script in the code archive; the arguments after it are its own"
    )
    # The script's arguments are its own, even one that looks like --code or --job.
    cut = next(
        (i + 2 for i, arg in enumerate(argv) if arg == "--script"),
        next((i + 1 for i, arg in enumerate(argv) if arg.startswith("--script=")), None),
    )
    if cut is not None:
        return parser.parse_args(argv[:cut]), argv[cut:]
    return parser.parse_known_args(argv)


def main(argv: list[str]) -> int:
    args, job_args = _parse(argv)
    try:
        if args.job is not None and args.job not in JOBS:
            raise BootstrapFailed(
                f"unknown job {args.job!r}; processing jobs are {', '.join(JOBS)}"
            )
        with tempfile.TemporaryDirectory(prefix="modeldrop-code-") as scratch:
            code = Path(scratch)
            unpack(args.code, code)
            if args.job is not None and not (code / "modeldrop_ml").is_dir():
                raise BootstrapFailed(
                    f"the code archive {args.code.name} holds no modeldrop_ml package"
                )
            script = _script_path(code, args.script) if args.script is not None else None
            install_requirements(code)
            environment = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(code), os.environ.get("PYTHONPATH")])
                ),
            }
            if script is None:
                command = [sys.executable, "-m", f"modeldrop_ml.{args.job}", *job_args]
                return subprocess.run(command, cwd=code, env=environment, check=False).returncode
            command = [sys.executable, str(script), *job_args]
            exit_code, stderr = _run_streaming(command, code, environment)
            if exit_code != 0:
                _write_message(_failure_message(args.script, exit_code, stderr))
            return exit_code
    except BootstrapFailed as failure:
        _write_message(str(failure))
        print(f"bootstrap failed: {failure}", file=sys.stderr)
        return 1


def _write_message(text: str) -> None:
    message = _message_file()
    message.parent.mkdir(parents=True, exist_ok=True)
    message.write_text(text[:MESSAGE_LIMIT], encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
