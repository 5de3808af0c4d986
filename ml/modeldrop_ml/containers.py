"""Which SageMaker image each job runs in (read from containers.json, shared with TypeScript)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

JOBS = ("processing", "training", "transform")


@cache
def containers() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("containers.json").read_text("utf-8"))


def is_gpu_instance(instance_type: str) -> bool:
    """ml.g5.xlarge → True; ml.m5.xlarge → False."""
    parts = instance_type.split(".")
    return len(parts) == 3 and parts[1] in containers()["gpu_instance_families"]


def image_uri(job: str, region: str, instance_type: str) -> str:
    if job not in JOBS:
        raise ValueError(f"job must be one of {', '.join(JOBS)}, not {job!r}")
    config = containers()
    image = config["images"][job]
    account = config["registry_account"].get(region, config["registry_account"]["default"])
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    tag = image["gpu" if is_gpu_instance(instance_type) else "cpu"]
    return f"{account}.dkr.ecr.{region}.{domain}/{image['repository']}:{tag}"
