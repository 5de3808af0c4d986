"""Where a job finds its inputs and puts its outputs: the SageMaker container contract.

Every path comes from the SageMaker environment variable when it is set, otherwise from the
contract's default under ``/opt/ml``. ``MODELDROP_OPT_ML`` moves that root, so tests and the
local cloud run the same code against a temporary directory shaped like ``/opt/ml``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BASE_DIR_VARIABLE = "MODELDROP_OPT_ML"


def base_dir() -> Path:
    return Path(os.environ.get(BASE_DIR_VARIABLE, "/opt/ml"))


def _from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else default


# --- training jobs -------------------------------------------------------------------------


def model_dir() -> Path:
    return _from_env("SM_MODEL_DIR", base_dir() / "model")


def channel_dir(name: str) -> Path:
    return _from_env(f"SM_CHANNEL_{name.upper()}", base_dir() / "input" / "data" / name)


def hyperparameters_file() -> Path:
    return base_dir() / "input" / "config" / "hyperparameters.json"


def output_data_dir() -> Path:
    return _from_env("SM_OUTPUT_DATA_DIR", base_dir() / "output" / "data")


def training_failure_file() -> Path:
    """SageMaker copies this file's text into DescribeTrainingJob's FailureReason."""
    return base_dir() / "output" / "failure"


def read_hyperparameters() -> dict[str, str]:
    """hyperparameters.json as SageMaker writes it: every value a string."""
    path = hyperparameters_file()
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in raw.items()
    }


# --- processing jobs -----------------------------------------------------------------------


def processing_input(name: str) -> Path:
    return base_dir() / "processing" / "input" / name


def processing_output(name: str) -> Path:
    return base_dir() / "processing" / "output" / name


def processing_failure_file() -> Path:
    """SageMaker copies this file's text into DescribeProcessingJob's ExitMessage."""
    return base_dir() / "output" / "message"


# --- hardware ------------------------------------------------------------------------------


def gpu_count() -> int:
    """GPUs visible to the job, without importing a deep-learning framework.

    SageMaker sets SM_NUM_GPUS in training containers; elsewhere the NVIDIA driver lists one
    directory per GPU under /proc/driver/nvidia/gpus.
    """
    value = os.environ.get("SM_NUM_GPUS")
    if value is not None and value.strip().isdigit():
        return int(value)
    gpus = Path("/proc/driver/nvidia/gpus")
    return len(list(gpus.iterdir())) if gpus.is_dir() else 0
