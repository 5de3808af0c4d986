"""Batch transform of a model the SageMaker Python SDK made: the user's script serves it."""

from __future__ import annotations

import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import OptMl
from modeldrop_ml import batch_transform
from sklearn.linear_model import LogisticRegression

ROWS = "2.1,-1.2\n-0.3,0.4\n"

MODEL_FN_ONLY = """
import os
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""

ALL_FOUR = """
import json
import os
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def input_fn(body, content_type):
    assert content_type == "text/csv" and isinstance(body, str)
    return [[float(cell) for cell in line.split(",")] for line in body.splitlines()]

def predict_fn(rows, model):
    return [int(label) for label in model.predict(rows)]

def output_fn(labels, accept):
    return "".join(json.dumps({"label": label, "accept": accept}) + "\\n" for label in labels)
"""


@pytest.fixture
def model_archive(tmp_path: Path) -> Path:
    """model.tar.gz as the SDK's training script leaves it: a bare model.joblib."""
    features = np.array([[2.0, -1.0], [2.2, -1.3], [-0.2, 0.5], [-0.4, 0.3]])
    model = LogisticRegression().fit(features, [1, 1, 0, 0])
    folder = tmp_path / "trained"
    folder.mkdir()
    joblib.dump(model, folder / "model.joblib")
    return _tar(tmp_path / "model.tar.gz", folder)


@pytest.fixture(autouse=True)
def _forget_user_modules() -> Iterator[None]:
    before = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - before:
        if not name.startswith(("modeldrop_ml", "numpy", "scipy", "sklearn", "joblib")):
            del sys.modules[name]
    sys.path[:] = path


def _tar(archive: Path, folder: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(folder.rglob("*")):
            tar.add(item, arcname=item.relative_to(folder).as_posix(), recursive=False)
    return archive


def _code(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    return folder


def _transform(model: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    rows = tmp_path / "input" / "rows.csv"
    rows.parent.mkdir(exist_ok=True)
    rows.write_text(ROWS)
    out = tmp_path / "predictions"
    code = batch_transform.run(
        [
            *("--model", str(model), "--input", str(rows.parent), "--output", str(out)),
            *("--content-type", "text/csv", "--split-type", "Line", *extra),
        ]
    )
    result = out / "rows.csv.out"
    return code, result.read_text() if result.exists() else ""


def test_a_script_with_only_model_fn_gets_the_scikit_learn_defaults(
    opt_ml: OptMl, model_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code_dir = _code(tmp_path / "code", "train_only_model_fn.py", MODEL_FN_ONLY)
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "train_only_model_fn.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://bucket/sdk/sourcedir.tar.gz")

    code, multi = _transform(model_archive, tmp_path, "--code", str(code_dir))
    _, single = _transform(
        model_archive, tmp_path, "--code", str(code_dir), "--batch-strategy", "SingleRecord"
    )

    assert code == 0
    assert multi == "[1, 0]\n"  # one JSON array per request: the encoder's json.dumps
    assert single == "[1]\n[0]\n"


def test_a_script_with_all_four_handlers_serves_from_the_models_code_folder(
    opt_ml: OptMl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    features = np.array([[2.0, -1.0], [-0.2, 0.5]])
    folder = tmp_path / "repacked"
    folder.mkdir()
    joblib.dump(LogisticRegression().fit(features, [1, 0]), folder / "model.joblib")
    _code(folder / "code", "all_four.py", ALL_FOUR)
    archive = _tar(tmp_path / "model.tar.gz", folder)
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "all_four.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "/opt/ml/model/code")

    code, out = _transform(archive, tmp_path, "--accept", "application/jsonlines")

    assert code == 0
    assert out.splitlines() == [
        '{"label": 1, "accept": "application/jsonlines"}',
        '{"label": 0, "accept": "application/jsonlines"}',
    ]


def test_an_exception_in_the_users_handler_is_the_failure_reason(
    opt_ml: OptMl, model_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = MODEL_FN_ONLY + "\ndef predict_fn(data, model):\n    raise KeyError('price')\n"
    code_dir = _code(tmp_path / "code", "failing_predict.py", failing)
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "failing_predict.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://bucket/sourcedir.tar.gz")

    code, _ = _transform(model_archive, tmp_path, "--code", str(code_dir))

    failure = (opt_ml.root / "output" / "failure").read_text()
    assert code == 1
    assert failure.startswith("rows.csv, line 1: the model's predict_fn failed:")
    assert "KeyError: 'price'" in failure
    assert "modeldrop bug" not in failure


def test_transform_fn_with_another_handler_is_refused(
    opt_ml: OptMl, model_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = MODEL_FN_ONLY + "\ndef transform_fn(m, b, c, a):\n    return ''\n"
    both += "\ndef input_fn(b, c):\n    return b\n"
    code_dir = _code(tmp_path / "code", "both_kinds.py", both)
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "both_kinds.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://bucket/sourcedir.tar.gz")

    code, _ = _transform(model_archive, tmp_path, "--code", str(code_dir))

    assert code == 1
    assert "Cannot use transform_fn" in (opt_ml.root / "output" / "failure").read_text()
