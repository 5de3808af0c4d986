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


def unpack_model(model: Path, scratch: Path, require_artifact: bool = True) -> Path:
    """The folder holding model.joblib: ``model`` itself, or model.tar.gz unpacked into scratch.

    Without ``require_artifact`` (a model served by its own script) any folder or archive will do.
    """
    if (model / ARTIFACT).is_file():
        return model
    archive = model if model.is_file() else model / "model.tar.gz"
    if not archive.is_file():
        if require_artifact or not model.is_dir():
            check_artifact(model, model)
        return model
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ModelArtifactInvalid(
            f"{archive.name} is not a readable model archive: {error}"
        ) from error
    if require_artifact:
        check_artifact(scratch, archive)
    return scratch


def check_artifact(folder: Path, source: Path) -> None:
    """That ``folder``, unpacked from ``source``, holds modeldrop's model."""
    if (folder / ARTIFACT).is_file():
        return
    archive = source if source.is_file() else source / "model.tar.gz"
    if not archive.is_file():
        raise ModelArtifactInvalid(
            f"no model found in {source.name}: expected model.tar.gz or {ARTIFACT}."
        )
    raise ModelArtifactInvalid(
        f"{archive.name} holds no {ARTIFACT}: it was not made by modeldrop's train job."
    )


def load_model(folder: Path) -> Any:
    try:
        return joblib.load(folder / ARTIFACT)
    except Exception as error:
        raise ModelArtifactInvalid(
            f"{ARTIFACT} cannot be loaded ({type(error).__name__}: {error}); it was made with other "
            "library versions or is damaged. Retrain the model."
        ) from error
