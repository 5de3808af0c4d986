"""Writes core/framework-images.json from the SageMaker Python SDK's own image table.

modeldrop runs a user's scripts in the framework's SageMaker container, named the way the SDK's
``sagemaker.image_uris.retrieve`` names it. Rather than copy the SDK's table by hand, this asks
the SDK (test/sdk/requirements.txt pins it) for every framework version modeldrop offers and
keeps what the local cloud and the pipeline input need: the repository, the tag per processor,
and the registry account per region.  Run it with the SDK's virtualenv after raising the pin:

    .venv-sdk/bin/python test/sdk/write_framework_images.py
"""

import json
import sys
from pathlib import Path

from sagemaker import image_uris

# The versions offered: those with both a training and an inference image, on Python 3.
OFFERED = {
    "sklearn": ["1.0-1", "1.2-1"],
    "xgboost": ["1.7-1", "3.0-5"],
    "pytorch": ["2.3.0", "2.4.0", "2.5.1", "2.6.0"],
}
PROCESSORS = {"sklearn": ["cpu"], "xgboost": ["cpu", "gpu"], "pytorch": ["cpu", "gpu"]}
INSTANCE = {"cpu": "ml.m5.xlarge", "gpu": "ml.g5.xlarge"}
PROBE_REGION = "us-east-1"


def py_version(framework: str, version: str, scope: str) -> str | None:
    config = image_uris.config_for_framework(framework)[scope]["versions"][version]
    versions = config.get("py_versions") or []
    return versions[-1] if versions else None


def split_uri(uri: str) -> tuple[str, str, str]:
    registry, rest = uri.split("/", 1)
    repository, tag = rest.rsplit(":", 1)
    return registry.split(".", 1)[0], repository, tag


def entry(framework: str, version: str, scope: str) -> dict:
    config = image_uris.config_for_framework(framework)[scope]
    versioned = config["versions"][version]
    registries = versioned.get("registries") or config.get("registries")
    tags: dict[str, str] = {}
    repository = None
    for processor in PROCESSORS[framework]:
        if processor not in (
            versioned.get("processors") or config.get("processors") or ["cpu", "gpu"]
        ):
            continue
        uri = image_uris.retrieve(
            framework,
            region=PROBE_REGION,
            version=version,
            py_version=py_version(framework, version, scope),
            instance_type=INSTANCE[processor],
            image_scope=scope,
        )
        _, repository, tag = split_uri(uri)
        tags[processor] = tag
    # The isolated (US ISO) partitions have registry domains of their own; modeldrop deploys to
    # the aws and aws-cn partitions only.
    kept = {
        region: account for region, account in registries.items() if not region.startswith("us-iso")
    }
    return {"repository": repository, "tags": tags, "registries": dict(sorted(kept.items()))}


def main() -> None:
    table: dict = {
        "comment": "Written by test/sdk/write_framework_images.py from the SageMaker Python SDK's image table; do not edit by hand.",
        "frameworks": {},
    }
    for framework, versions in OFFERED.items():
        table["frameworks"][framework] = {
            version: {
                scope: entry(framework, version, scope) for scope in ("training", "inference")
            }
            for version in versions
        }
    out = Path(__file__).resolve().parents[2] / "core" / "framework-images.json"
    out.write_text(json.dumps(table, indent=1) + "\n")
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
