"""The serving container's contract for the model's own script: which handlers a transform runs.

A model names its script in its container environment, as the SageMaker inference toolkits
read it: ``SAGEMAKER_PROGRAM`` (``inference.py``, or the SDK estimator's entry point) inside
``SAGEMAKER_SUBMIT_DIRECTORY`` (an S3 ``sourcedir.tar.gz``, which the local cloud unpacks to
``/opt/ml/code``, or ``/opt/ml/model/code``, the code folder of a repacked model). The module is
imported and serves with its ``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn``, or
its ``transform_fn`` (not both, as in sagemaker_inference/transformer.py), and the framework's
default for each handler it leaves out. modeldrop's own models name ``inference.py``, which
re-exports ``inference``'s four handlers, so they take the same path.

The defaults are the scikit-learn container's (sagemaker_sklearn_container/handler_service.py)
over the inference toolkit's decoder and encoder (sagemaker_inference/decoder.py, encoder.py):

* ``model_fn``: none; a script without one fails, asking for one.
* ``input_fn``: ``text/csv`` is ``np.genfromtxt(body, dtype=None, delimiter=",")``,
  ``application/json`` is ``np.array(json.loads(body))``, ``application/x-npy`` is
  ``np.load(body, allow_pickle=True)``, ``application/x-npz`` a scipy sparse matrix; a 1-D
  array becomes one row, and CSV/JSON arrays are cast to float32. Other types fail.
* ``predict_fn``: ``model.predict(data)``.
* ``output_fn``: ``application/json`` is ``json.dumps`` (arrays through ``tolist``),
  ``text/csv`` is ``np.savetxt(delimiter=",", fmt="%s")``, ``application/x-npy`` is
  ``np.save``. Other types fail.

As in the toolkit, a ``text/csv`` or ``application/json`` body reaches ``input_fn`` as text, and
a missing or ``*/*`` Accept means ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (``application/json``
when unset). The response's content type is that accept type, or the one a handler returns with
its body as ``(body, content_type)``. A model without ``SAGEMAKER_PROGRAM`` is served by
``inference`` (modeldrop's own), whose output_fn says what it wrote (JSON lines or CSV).

An exception in the script's handlers (or in a default working on its data) fails the job with
its last lines, as the user's to fix; one in modeldrop's own handlers stays a modeldrop bug.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from inspect import signature
from pathlib import Path
from typing import Any

import numpy as np

from . import inference
from .errors import JobFailed

PROGRAM = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
MODEL_CODE = "/opt/ml/model/code"

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
NPZ = "application/x-npz"
ANY = "*/*"
UTF8_TYPES = (JSON, CSV)
TRACEBACK_LINES = 4


class HandlerFailed(JobFailed):
    """The model's serving code raised; the message holds the exception's last lines."""


class UnsupportedFormat(JobFailed):
    """The default input_fn or output_fn cannot read or write this content type (the toolkit's
    UnsupportedFormatError: an endpoint answers 415)."""


def default_model_fn(model_dir: str) -> Any:
    raise JobFailed(
        "Please provide a model_fn implementation in the model's script (SAGEMAKER_PROGRAM): "
        "the scikit-learn serving container has no default model_fn."
    )


def _unsupported(
    content_type: str | None, handler: str, supported: tuple[str, ...]
) -> UnsupportedFormat:
    return UnsupportedFormat(
        f"content type {content_type!r} is not supported by the default {handler} "
        f"(it reads {', '.join(supported)}); define {handler} in the model's script"
    )


def default_input_fn(input_data: bytes | str, content_type: str | None) -> Any:
    if content_type == CSV:
        array = np.genfromtxt(io.StringIO(_as_text(input_data)), dtype=None, delimiter=",")
    elif content_type == JSON:
        array = np.array(json.loads(_as_text(input_data)))
    elif content_type == NPY:
        array = np.load(io.BytesIO(_as_bytes(input_data)), allow_pickle=True)
    elif content_type == NPZ:
        import scipy.sparse

        return scipy.sparse.load_npz(io.BytesIO(_as_bytes(input_data)))
    else:
        raise _unsupported(content_type, "input_fn", (NPY, CSV, JSON, NPZ))
    if len(array.shape) == 1:
        array = array.reshape(1, -1)
    return array.astype(np.float32) if content_type in UTF8_TYPES else array


def default_predict_fn(input_data: Any, model: Any) -> Any:
    return model.predict(input_data)


def default_output_fn(prediction: Any, accept: str) -> bytes | str:
    if accept == JSON:
        return json.dumps(prediction, default=_json_default)
    if accept == CSV:
        stream = io.StringIO()
        np.savetxt(stream, prediction, delimiter=",", fmt="%s")
        return stream.getvalue()
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, prediction)
        return buffer.getvalue()
    raise _unsupported(accept, "output_fn", (NPY, CSV, JSON))


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return json.JSONEncoder().default(value)


def _as_text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8")


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


@dataclass(frozen=True)
class Answer:
    """One request's response: the prediction (when the handlers show it), the body, and its
    content type as the toolkit sets it (the accept type, or the one a handler returned with the
    body; modeldrop's output_fn says what it wrote)."""

    prediction: Any
    body: bytes | str
    content_type: str


@dataclass(frozen=True)
class Handlers:
    """The serving functions of a model, with the defaults filled in."""

    model_fn: Callable[..., Any]
    input_fn: Callable[..., Any]
    predict_fn: Callable[..., Any]
    output_fn: Callable[..., Any]
    transform_fn: Callable[..., Any] | None = None
    default_accept: str = JSON

    def load(self, model_dir: str) -> Any:
        return _call(self.model_fn, model_dir)

    def predict(self, model: Any, body: bytes, content_type: str | None) -> Any:
        """input_fn then predict_fn on one request: the prediction before output_fn encodes it.
        A script with transform_fn has no such step to call."""
        data = _call(self.input_fn, _request(body, content_type), content_type)
        return _call(self.predict_fn, data, model)

    def answer(
        self, model: Any, body: bytes, content_type: str | None, accept: str | None
    ) -> Answer:
        if not accept or accept == ANY:
            accept = self.default_accept
        if self.transform_fn is not None:
            data = _request(body, content_type)
            result = _call(self.transform_fn, model, data, content_type, accept)
            return Answer(None, *_response(result, accept))
        prediction = self.predict(model, body, content_type)
        result = _call(self.output_fn, prediction, accept)
        if self.output_fn is inference.output_fn:
            accept = inference.output_content_type(accept)
        return Answer(prediction, *_response(result, accept))

    def transform(
        self, model: Any, body: bytes, content_type: str | None, accept: str | None
    ) -> tuple[Any, bytes | str]:
        """(the prediction, when the handlers show it, and the response body) for one request."""
        answer = self.answer(model, body, content_type, accept)
        return answer.prediction, answer.body


def _request(body: bytes, content_type: str | None) -> bytes | str:
    """The body as a handler gets it: text for the toolkit's UTF-8 types, bytes otherwise."""
    if content_type not in UTF8_TYPES:
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise inference.InvalidInput(f"the request body is not UTF-8 text: {error}") from None


def _response(result: Any, accept: str) -> tuple[bytes | str, str]:
    """A handler's answer and its content type: a body (of the accept type), or (body, content
    type) as the toolkit also takes."""
    body = result[0] if isinstance(result, tuple) else result
    returned = result[1] if isinstance(result, tuple) and len(result) > 1 else None
    if isinstance(body, bytes | str):
        return body, returned if isinstance(returned, str) and returned else accept
    raise HandlerFailed(
        f"the model's serving code answered {type(body).__name__}, not text or bytes"
    )


def _call(handler: Callable[..., Any], *args: Any) -> Any:
    """Runs one handler; what the model's code raises becomes the job's readable failure."""
    if handler.__module__ == inference.__name__:
        return handler(*args)
    try:
        # The toolkit passes its request context to a handler that takes one more argument;
        # a batch transform here has none to give.
        if len(signature(handler).parameters) == len(args) + 1:
            args = (*args, None)
    except (TypeError, ValueError):  # a builtin without a signature
        pass
    try:
        return handler(*args)
    except JobFailed:
        raise
    except Exception as error:
        lines = traceback.format_exception(error)
        last = "".join(lines[-TRACEBACK_LINES:]).strip()
        raise HandlerFailed(f"the model's {handler.__name__} failed: {last}") from error


def code_dir(environment: Mapping[str, str], model_dir: Path, staged: Path | None) -> Path:
    """Where SAGEMAKER_SUBMIT_DIRECTORY's code is: ``staged`` for an S3 archive the local cloud
    unpacked, the unpacked model's folder for a path under /opt/ml/model."""
    submit = environment.get(SUBMIT_DIRECTORY, "") or MODEL_CODE
    if submit.startswith("s3://"):
        if staged is None:
            raise JobFailed(f"{SUBMIT_DIRECTORY} {submit} was not unpacked for this job")
        return staged
    model_root = MODEL_CODE.rsplit("/", 1)[0]
    if submit == model_root or submit.startswith(model_root + "/"):
        return model_dir / submit[len(model_root) :].lstrip("/")
    return Path(submit)


def load_handlers(environment: Mapping[str, str], code: Path) -> Handlers:
    """The model's handlers: its SAGEMAKER_PROGRAM module's, or modeldrop's without one."""
    default_accept = environment.get(DEFAULT_ACCEPT) or JSON
    program = environment.get(PROGRAM, "")
    if not program:
        return Handlers(
            inference.model_fn,
            inference.input_fn,
            inference.predict_fn,
            inference.output_fn,
            default_accept=default_accept,
        )
    name = program[: -len(".py")] if program.endswith(".py") else program
    if not (code / f"{name}.py").is_file() and not (code / name / "__init__.py").is_file():
        raise JobFailed(
            f"{PROGRAM} {program} is not in the model's code ({SUBMIT_DIRECTORY} "
            f"{environment.get(SUBMIT_DIRECTORY) or MODEL_CODE})"
        )
    if str(code) not in sys.path:
        sys.path.insert(0, str(code))
    try:
        module = importlib.import_module(name)
    except Exception as error:
        last = "".join(traceback.format_exception(error)[-TRACEBACK_LINES:]).strip()
        raise HandlerFailed(f"the model's script {program} cannot be imported: {last}") from error
    transform_fn = getattr(module, "transform_fn", None)
    input_fn = getattr(module, "input_fn", None)
    predict_fn = getattr(module, "predict_fn", None)
    output_fn = getattr(module, "output_fn", None)
    if transform_fn and (input_fn or predict_fn or output_fn):
        raise JobFailed(
            f"{program}: Cannot use transform_fn implementation in conjunction with input_fn, "
            "predict_fn, and/or output_fn implementation"
        )
    return Handlers(
        model_fn=getattr(module, "model_fn", default_model_fn),
        input_fn=input_fn or default_input_fn,
        predict_fn=predict_fn or default_predict_fn,
        output_fn=output_fn or default_output_fn,
        transform_fn=transform_fn,
        default_accept=default_accept,
    )


def from_environment(model_dir: Path, staged: Path | None) -> Handlers:
    environment = dict(os.environ)
    code = code_dir(environment, model_dir, staged) if environment.get(PROGRAM) else model_dir
    return load_handlers(environment, code)
