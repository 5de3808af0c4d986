"""The model artifact: where train saves the pipeline, and how the jobs after it read it back.

Train writes ``model.joblib`` (the whole inference pipeline) to ``/opt/ml/model`` beside
``history.json``, ``model-info.json`` and ``dataset.json``, and SageMaker tars that folder into
``model.tar.gz``. A processing job (evaluate) is handed the archive unopened, batch transform
locally gets the archive or its folder, and the serving handlers get the unpacked folder; so
the jobs unpack and load it here, not from each other.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import joblib

from .errors import ModelArtifactInvalid

ARTIFACT = "model.joblib"


def unpack_model(model: Path, scratch: Path) -> Path:
    """The folder holding model.joblib: ``model`` itself, or model.tar.gz unpacked into scratch."""
    if (model / ARTIFACT).is_file():
        return model
    archive = model if model.is_file() else model / "model.tar.gz"
    if not archive.is_file():
        raise ModelArtifactInvalid(
            f"no model found in {model.name}: expected model.tar.gz or {ARTIFACT}."
        )
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ModelArtifactInvalid(
            f"{archive.name} is not a readable model archive: {error}"
        ) from error
    if not (scratch / ARTIFACT).is_file():
        raise ModelArtifactInvalid(
            f"{archive.name} holds no {ARTIFACT}: it was not made by modeldrop's train job."
        )
    return scratch


def load_model(folder: Path) -> Any:
    try:
        return joblib.load(folder / ARTIFACT)
    except Exception as error:
        raise ModelArtifactInvalid(
            f"{ARTIFACT} cannot be loaded ({type(error).__name__}: {error}); it was made with other "
            "library versions or is damaged. Retrain the model."
        ) from error
