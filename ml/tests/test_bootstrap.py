"""bootstrap.py running a user's own processing script from the code archive (``--script``)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from conftest import OptMl

BOOTSTRAP = Path(__file__).resolve().parent.parent / "bootstrap.py"


def _archive(folder: Path, files: dict[str, str]) -> Path:
    """A sourcedir.tar.gz holding ``files`` (name → text), as the SageMaker Python SDK packs one."""
    archive = folder / "code" / "sourcedir.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def _bootstrap(
    opt_ml: OptMl, *args: str | Path, scratch: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs bootstrap.py as a job's entrypoint; ``scratch`` is where it unpacks (TMPDIR)."""
    scratch_env = {"TMPDIR": str(scratch)} if scratch else {}
    return subprocess.run(
        [sys.executable, str(BOOTSTRAP), *map(str, args)],
        env={**os.environ, "MODELDROP_OPT_ML": str(opt_ml.root), **scratch_env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _exit_message(opt_ml: OptMl) -> str:
    return (opt_ml.root / "output" / "message").read_text(encoding="utf-8")


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap", BOOTSTRAP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_script_runs_in_the_unpacked_code_folder_with_its_own_arguments(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(
        tmp_path,
        {
            "preprocess.py": (
                "import os, sys\n"
                "from helpers import shout\n"
                "print(shout(open('settings.txt').read()), sys.argv[1:])\n"
                "print('cwd holds', sorted(os.listdir('.')))\n"
            ),
            "helpers.py": "def shout(text):\n    return text.strip().upper()\n",
            "settings.txt": "fast\n",
        },
    )

    result = _bootstrap(
        opt_ml, "--code", archive, "--script", "preprocess.py", "--rows", "3", "--job", "x"
    )

    assert result.returncode == 0, result.stderr
    assert "FAST ['--rows', '3', '--job', 'x']" in result.stdout
    assert "cwd holds ['helpers.py', 'preprocess.py', 'settings.txt']" in result.stdout
    assert not (opt_ml.root / "output" / "message").exists()


def test_a_failing_script_gives_its_traceback_end_as_the_exit_message(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(
        tmp_path,
        {
            "preprocess.py": (
                "import sys\n"
                "for i in range(100):\n"
                "    print('progress', i, file=sys.stderr)\n"
                "def check(column):\n"
                "    raise ValueError(f'bad column {column}')\n"
                "check('x')\n"
            )
        },
    )

    result = _bootstrap(opt_ml, "--code", archive, "--script", "preprocess.py")

    assert result.returncode == 1
    message = _exit_message(opt_ml)
    assert message.startswith(
        "preprocess.py failed (exit code 1): Traceback (most recent call last):"
    )
    assert message.endswith("ValueError: bad column x")
    assert "progress" not in message
    assert "progress 99" in result.stderr  # streamed on to the job's log as it came


def test_a_syntax_error_is_reported_with_its_lines(opt_ml: OptMl, tmp_path: Path) -> None:
    archive = _archive(tmp_path, {"preprocess.py": "def broken(:\n    pass\n"})

    result = _bootstrap(opt_ml, "--code", archive, "--script", "preprocess.py")

    assert result.returncode == 1
    message = _exit_message(opt_ml)
    assert message.startswith("preprocess.py failed (exit code 1): ")
    assert "def broken(:" in message
    assert "SyntaxError" in message


def test_the_exit_message_keeps_the_end_of_a_long_error_within_sagemakers_limit(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(tmp_path, {"preprocess.py": "raise RuntimeError('x' * 3000 + ' the end')\n"})

    _bootstrap(opt_ml, "--code", archive, "--script", "preprocess.py")

    message = _exit_message(opt_ml)
    assert len(message) <= 1024
    assert message.startswith("preprocess.py failed (exit code 1): …")
    assert message.endswith("x the end")


def test_a_script_missing_from_the_archive_is_named_with_what_the_archive_holds(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(tmp_path, {"prepare.py": "", "lib/util.py": ""})

    result = _bootstrap(opt_ml, "--code", archive, "--script", "preprocess.py")

    assert result.returncode == 1
    assert _exit_message(opt_ml) == (
        "the processing script preprocess.py is not in the code archive "
        "(it holds: lib/util.py, prepare.py)"
    )


def test_a_script_path_that_leaves_the_code_folder_is_refused(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(tmp_path, {"preprocess.py": ""})
    (tmp_path / "outside.py").write_text("print('ran outside')\n")

    result = _bootstrap(opt_ml, "--code", archive, "--script", "../../outside.py")

    assert result.returncode == 1
    assert "ran outside" not in result.stdout
    assert _exit_message(opt_ml).startswith("the processing script ../../outside.py is not in")


def test_an_archive_entry_that_would_leave_the_code_folder_is_refused(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = _archive(tmp_path, {"../escaped.py": "", "preprocess.py": ""})
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    result = _bootstrap(opt_ml, "--code", archive, "--script", "preprocess.py", scratch=scratch)

    assert result.returncode == 1
    assert _exit_message(opt_ml).startswith("the code archive sourcedir.tar.gz cannot be unpacked")
    assert list(scratch.iterdir()) == []


def test_a_job_and_a_script_cannot_both_be_asked_for(opt_ml: OptMl, tmp_path: Path) -> None:
    archive = _archive(tmp_path, {"preprocess.py": ""})

    result = _bootstrap(
        opt_ml, "--code", archive, "--job", "preprocess", "--script", "preprocess.py"
    )

    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_requirements_the_local_cloud_installed_are_not_installed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = _module()
    calls: list[list[str]] = []
    monkeypatch.setattr(
        bootstrap.subprocess,
        "run",
        lambda command, **_: calls.append(command) or subprocess.CompletedProcess(command, 0),
    )
    (tmp_path / "requirements.txt").write_text("tomli-w==1.2.0\n")
    digest = hashlib.sha256(b"tomli-w==1.2.0\n").hexdigest()

    monkeypatch.setenv("MODELDROP_REQUIREMENTS_SHA256", digest)
    bootstrap.install_requirements(tmp_path)
    assert calls == []
    monkeypatch.setenv("MODELDROP_REQUIREMENTS_SHA256", hashlib.sha256(b"other").hexdigest())
    bootstrap.install_requirements(tmp_path)
    assert len(calls) == 1


def test_a_requirement_that_does_not_install_is_named_in_the_exit_message(
    opt_ml: OptMl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = _module()
    pip_says = (
        "ERROR: Could not find a version that satisfies the requirement nosuch==1.0 "
        "(from versions: none)\nERROR: No matching distribution found for nosuch==1.0\n"
    )
    monkeypatch.setattr(
        bootstrap.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 1, "", pip_says),
    )
    monkeypatch.delenv("MODELDROP_REQUIREMENTS_SHA256", raising=False)
    archive = _archive(tmp_path, {"preprocess.py": "", "requirements.txt": "nosuch==1.0\n"})

    code = bootstrap.main(["--code", str(archive), "--script", "preprocess.py"])

    assert code == 1
    assert _exit_message(opt_ml) == (
        "requirements.txt did not install: No matching distribution found for nosuch==1.0"
    )
