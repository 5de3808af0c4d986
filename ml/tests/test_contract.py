"""The SageMaker contract around the jobs: code archive, bootstrap, images, options, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import OptMl, mixed_frame
from modeldrop_ml import containers, env, sourcedir
from modeldrop_ml.errors import InvalidOption, JobFailed, run_job
from modeldrop_ml.options import coerce_hyperparameters, validate_options

ML_DIR = Path(__file__).resolve().parent.parent


def test_the_code_archive_is_reproducible_and_holds_what_the_toolkits_need(tmp_path: Path) -> None:
    first = sourcedir.build(tmp_path / "a.tar.gz")
    second = sourcedir.build(tmp_path / "b.tar.gz")

    assert first == second
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        names = set(tar.getnames())
    assert {"bootstrap.py", "train.py", "inference.py", "requirements.txt"} <= names
    assert "modeldrop_ml/options.schema.json" in names
    assert not any("tests" in name or "__pycache__" in name for name in names)


def test_bootstrap_unpacks_the_archive_and_runs_a_processing_job_as_sagemaker_would(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = tmp_path / "code" / "sourcedir.tar.gz"
    sourcedir.build(archive)
    opt_ml.drop("customers.csv", mixed_frame(100))
    environment = {**os.environ, "MODELDROP_OPT_ML": str(opt_ml.root)}

    result = subprocess.run(
        [
            sys.executable,
            str(ML_DIR / "bootstrap.py"),
            "--code",
            str(archive),
            "--job",
            "preprocess",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "MODELDROP_PROGRESS" in result.stdout
    assert (opt_ml.processed / "profile.json").is_file()


def test_bootstrap_reports_an_unreadable_archive_in_the_exit_message(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    archive.write_bytes(b"garbage")
    environment = {**os.environ, "MODELDROP_OPT_ML": str(opt_ml.root)}

    result = subprocess.run(
        [
            sys.executable,
            str(ML_DIR / "bootstrap.py"),
            "--code",
            str(archive),
            "--job",
            "preprocess",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 1
    message = (opt_ml.root / "output" / "message").read_text()
    assert message.startswith("the code archive sourcedir.tar.gz cannot be unpacked")


def _bootstrap_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bootstrap", ML_DIR / "bootstrap.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_skips_pip_when_every_pin_is_installed_and_runs_it_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap = _bootstrap_module()
    calls: list[list[str]] = []
    monkeypatch.setattr(
        bootstrap.subprocess,
        "run",
        lambda command, **_: calls.append(command) or subprocess.CompletedProcess(command, 0),
    )
    installed = tmp_path / "installed"
    installed.mkdir()
    pytest_version = bootstrap.metadata.version("pytest")
    (installed / "requirements.txt").write_text(f"# pins\npytest=={pytest_version}\n")
    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / "requirements.txt").write_text(f"pytest=={pytest_version}\nno-such-package==1.0\n")

    bootstrap.install_requirements(installed)
    assert calls == []
    bootstrap.install_requirements(missing)
    assert len(calls) == 1
    assert calls[0][-2:] == ["-r", str(missing / "requirements.txt")]


def test_the_training_entry_point_runs_as_the_toolkit_runs_it(opt_ml: OptMl) -> None:
    opt_ml.drop("customers.csv", mixed_frame(150))
    assert opt_ml.preprocess().code == 0
    environment = {
        **os.environ,
        "MODELDROP_OPT_ML": str(opt_ml.root),
        "SM_CHANNEL_TRAIN": str(opt_ml.processed / "train"),
        "SM_CHANNEL_VALIDATION": str(opt_ml.processed / "validation"),
        "SM_MODEL_DIR": str(opt_ml.root / "model"),
    }

    result = subprocess.run(
        [sys.executable, "train.py", "--num_round", "10", "--max_depth", "3"],
        cwd=ML_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert (
        json.loads((opt_ml.model / "model-info.json").read_text())["hyperparameters"]["num_round"]
        == 10
    )


@pytest.mark.parametrize(
    ("job", "region", "instance", "expected"),
    [
        (
            "training",
            "us-east-1",
            "ml.g5.xlarge",
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker",
        ),
        (
            "processing",
            "eu-west-1",
            "ml.m5.xlarge",
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311-ubuntu22.04-sagemaker",
        ),
        (
            "transform",
            "af-south-1",
            "ml.m5.large",
            "626614931356.dkr.ecr.af-south-1.amazonaws.com/pytorch-inference:2.5.1-cpu-py311-ubuntu22.04-sagemaker",
        ),
    ],
)
def test_each_job_names_its_image_by_instance_type_and_region(
    job: str, region: str, instance: str, expected: str
) -> None:
    assert containers.image_uri(job, region, instance) == expected


def test_the_local_python_matches_the_image_python() -> None:
    tag = containers.containers()["images"]["training"]["cpu"]
    assert f"py3{sys.version_info.minor}" in tag


def test_every_cloud_pin_is_what_the_local_environment_runs() -> None:
    from importlib import metadata

    for line in (ML_DIR / "requirements-cloud.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert metadata.version(name) == version, name


def test_options_are_validated_against_the_schema_generated_from_typescript() -> None:
    assert validate_options({"target": "y", "hyperparameters": {"max_depth": 3}}) == {
        "target": "y",
        "hyperparameters": {"max_depth": 3},
    }
    with pytest.raises(InvalidOption, match=r"^option instanceTypes.training: 'm5' does not match"):
        validate_options({"instanceTypes": {"training": "m5"}})
    with pytest.raises(
        InvalidOption, match=r"^option notify.email.0: 'not-an-email' is not a 'email'"
    ):
        validate_options({"notify": {"email": ["not-an-email"]}})


def test_string_hyperparameters_are_typed_from_the_schema() -> None:
    assert coerce_hyperparameters({"max_depth": "6", "learning_rate": "0.05", "seed": '"7"'}) == {
        "max_depth": 6,
        "learning_rate": 0.05,
        "seed": 7,
    }


def test_paths_follow_the_sagemaker_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(env.BASE_DIR_VARIABLE, raising=False)
    monkeypatch.delenv("SM_MODEL_DIR", raising=False)
    assert env.model_dir() == Path("/opt/ml/model")
    assert env.processing_failure_file() == Path("/opt/ml/output/message")
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "m"))
    monkeypatch.setenv(env.BASE_DIR_VARIABLE, str(tmp_path))
    assert env.model_dir() == tmp_path / "m"
    assert env.channel_dir("train") == tmp_path / "input" / "data" / "train"
    assert env.training_failure_file() == tmp_path / "output" / "failure"


@pytest.mark.parametrize(
    ("error", "code", "text"),
    [
        (
            JobFailed("{root}/processing/input/data/x.csv is bad; send text/csv, 1/2 or s3://b/k"),
            1,
            "x.csv is bad; send text/csv, 1/2 or s3://b/k",
        ),
        (
            OSError("[Errno 28] No space left: '{root}/model/model.joblib'"),
            2,
            "job failed unexpectedly: OSError: [Errno 28] No space left: 'model.joblib'. "
            "This is a modeldrop bug; the job log has the traceback.",
        ),
    ],
)
def test_the_failure_file_shows_no_machine_path(
    opt_ml: OptMl, error: Exception, code: int, text: str
) -> None:
    failure = opt_ml.root / "output" / "failure"
    error.args = (str(error).format(root=opt_ml.root),)

    def body() -> None:
        raise error

    assert run_job("job", failure, body) == code
    assert failure.read_text() == text
