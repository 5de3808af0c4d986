"""Run options, validated against the JSON Schema generated from core/options.ts.

The schema file ships inside this package, so the jobs validate exactly what the TypeScript
side validates. Hyperparameters reach a training job as strings (SageMaker's
hyperparameters.json, or the toolkit's command-line arguments); ``coerce_hyperparameters``
turns them back into the types the schema declares before validating.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from .errors import InvalidOption

DEFAULT_SPLIT = {"validation": 0.15, "test": 0.15, "seed": 42}


@cache
def options_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("options.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(
        options_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _field_of(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(key for key in error.instance if key not in allowed)
        if extra:
            path.append(extra[0])
    return ".".join(path) or "(options)"


def validate_options(options: dict[str, Any]) -> dict[str, Any]:
    """Returns the options unchanged, or raises InvalidOption naming the first bad field."""
    error = best_match(_validator().iter_errors(options))
    if error is None:
        return options
    field = _field_of(error)
    if error.validator == "additionalProperties":
        raise InvalidOption(field, "is not a known option")
    raise InvalidOption(field, error.message)


def parse_options_json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidOption("(options)", f"is not valid JSON: {error}") from error
    if not isinstance(options, dict):
        raise InvalidOption("(options)", "must be a JSON object")
    return validate_options(options)


def hyperparameter_types() -> dict[str, str]:
    properties = options_schema()["properties"]["hyperparameters"]["properties"]
    return {name: spec.get("type", "string") for name, spec in properties.items()}


def _coerce(name: str, raw: str, kind: str) -> Any:
    text = raw.strip()
    # SageMaker's hyperparameters.json may hold JSON-encoded strings ("\"6\"").
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    try:
        if kind == "integer":
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            lowered = text.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError
    except ValueError:
        raise InvalidOption(f"hyperparameters.{name}", f"{raw!r} is not a valid {kind}") from None
    return text


def coerce_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """String hyperparameters → typed and validated; unknown names are rejected by name."""
    types = hyperparameter_types()
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in types:
            raise InvalidOption(f"hyperparameters.{name}", "is not a known hyperparameter")
        typed[name] = _coerce(name, value, types[name])
    validate_options({"hyperparameters": typed})
    return typed
