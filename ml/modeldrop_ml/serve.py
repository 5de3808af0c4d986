"""The local stand-in for SageMaker's serving container behind a real-time or serverless endpoint.

One long-lived process per endpoint. It loads the model once, with the handlers the model's
container environment names (``serving``: the user's script, or modeldrop's ``inference``) and
their ``model_fn``, then answers the inference toolkit's HTTP contract until it is stopped:

* ``GET /ping``: 200 while the model is loaded.
* ``POST /invocations``: the body through ``input_fn``, ``predict_fn`` and ``output_fn`` (or
  ``transform_fn``) with the request's Content-Type (passed on as it is, absent included) and
  Accept (absent or ``*/*``: ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``); 200 with the body and
  the content type that was answered.

Errors are answered as the toolkit's transformer maps them, as a text/plain message: 400 when
the request cannot be read as rows for the model, 415 when its content type or accept type is
not one the handlers read or write, 500 when the model's script raised (with its last lines) or
modeldrop's own code did (the traceback goes to stderr with every 5xx). A body over 6 MB,
SageMaker's limit for a real-time request, is answered 413 without being read.

The local cloud runs ``python -m modeldrop_ml.serve --model /opt/ml/model`` with the model's
Environment and ``SAGEMAKER_BIND_TO_PORT`` (default 8080) as variables, waits for /ping and
forwards InvokeEndpoint to /invocations. The process listens on 127.0.0.1 only, since the local
cloud is the one way in, as SageMaker's front end is. A model that cannot be loaded ends it
before it listens: the reason goes to ``--failure-file`` (the endpoint's FailureReason) and
stderr, with exit code 1 when the model or its script is at fault and 2 for a modeldrop bug.
SIGTERM or SIGINT: it stops accepting, finishes the requests in flight and exits 0.

As each of the toolkit's model-server workers takes one request at a time, one at a time
reaches the handlers, which a user's script may rely on; /ping answers meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import inference, serving
from .artifact import check_artifact, unpack_model
from .errors import EXIT_INTERNAL, EXIT_REJECTED, JobFailed, clean_message, write_failure

HOST = "127.0.0.1"
PORT = "SAGEMAKER_BIND_TO_PORT"
DEFAULT_PORT = 8080
MAX_PAYLOAD = 6 * 1024 * 1024
ROUTES = {"/ping": "GET", "/invocations": "POST"}
TEXT = "text/plain; charset=utf-8"
LINE_LIMIT = 65536


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="modeldrop_ml.serve", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="model.tar.gz, or its folder")
    parser.add_argument(
        "--code", type=Path, help="SAGEMAKER_SUBMIT_DIRECTORY's sourcedir.tar.gz, unpacked"
    )
    parser.add_argument(
        "--failure-file", type=Path, help="where the reason goes when the model cannot be loaded"
    )
    return parser.parse_args(argv)


class Refused(Exception):
    """A request answered with an error status before it reaches the handlers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class LoadedModel:
    """The model as loaded at start; its handlers take one request at a time, as each of the
    toolkit's workers does."""

    handlers: serving.Handlers
    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Answer:
        with self.lock:
            return self.handlers.answer(self.model, body, content_type, accept)


def load(args: argparse.Namespace, scratch: Path) -> LoadedModel:
    """The model's handlers and its model_fn's model, as batch_transform loads them."""
    folder = unpack_model(args.model, scratch, require_artifact=False)
    handlers = serving.from_environment(folder, args.code)
    if handlers.model_fn is inference.model_fn:
        check_artifact(folder, args.model)
    return LoadedModel(handlers, handlers.load(str(folder)))


def error_response(error: Exception) -> tuple[int, str]:
    """The status and message an exception from the handlers is answered with."""
    if isinstance(error, inference.UnsupportedFormat | serving.UnsupportedFormat):
        return 415, str(error)
    if isinstance(error, inference.InvalidInput):
        return 400, str(error)
    if isinstance(error, serving.HandlerFailed):
        return 500, str(error)
    return 500, f"modeldrop's serving code failed: {type(error).__name__}: {error}"


class Server(ThreadingHTTPServer):
    """Threads per connection; keeps track of the connections waiting for their next request,
    so that stopping closes those and waits only for the requests in flight."""

    daemon_threads = False  # server_close joins the threads, so requests in flight finish
    request_queue_size = 128

    def __init__(self, port: int, model: LoadedModel) -> None:
        super().__init__((HOST, port), RequestHandler)
        self.model = model
        self.stopping = False
        self._idle: set[socket.socket] = set()
        self._lock = threading.Lock()

    def waiting(self, connection: socket.socket) -> bool:
        """Marks a connection as between requests; False once the server is stopping."""
        with self._lock:
            if self.stopping:
                return False
            self._idle.add(connection)
            return True

    def not_waiting(self, connection: socket.socket) -> None:
        with self._lock:
            self._idle.discard(connection)

    def close_idle(self) -> None:
        with self._lock:
            self.stopping = True
            for connection in self._idle:
                with contextlib.suppress(OSError):  # the client closed it already
                    connection.shutdown(socket.SHUT_RDWR)
            self._idle.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client went away
            return
        super().handle_error(request, client_address)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response says its Content-Length
    server_version = "modeldrop-serving"
    disable_nagle_algorithm = True  # headers and body go out as two writes
    server: Server

    def handle(self) -> None:
        try:
            if self.server.waiting(self.connection):
                super().handle()
        finally:
            self.server.not_waiting(self.connection)

    def handle_one_request(self) -> None:
        super().handle_one_request()
        if not self.server.waiting(self.connection):
            self.close_connection = True

    def parse_request(self) -> bool:
        self.server.not_waiting(self.connection)
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No line per request: latency matters more than an access log here."""

    def _route(self) -> None:
        path = self.path.split("?", 1)[0]
        method = ROUTES.get(path)
        if method is None:
            self._refuse(
                404, f"{path} is not served: an endpoint answers GET /ping and POST /invocations"
            )
        elif self.command != method:
            self._refuse(405, f"{path} answers {method} only", {"Allow": method})
        elif path == "/ping":
            self._send(200, b"", None)
        else:
            self._invoke()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _route

    def _invoke(self) -> None:
        try:
            body = self._body()
        except Refused as refused:
            self._send(refused.status, str(refused).encode("utf-8"), TEXT, {"Connection": "close"})
            return
        try:
            answer = self.server.model.invoke(
                body, self.headers.get("Content-Type"), self.headers.get("Accept")
            )
        except Exception as error:
            status, message = error_response(error)
            if status >= 500:
                traceback.print_exc(file=sys.stderr)
            self._send(status, clean_message(message).encode("utf-8"), TEXT)
            return
        data = answer.body.encode("utf-8") if isinstance(answer.body, str) else answer.body
        self._send(200, data, answer.content_type)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise Refused(400, f"Content-Length {length!r} is not a number of bytes")
        if int(length) > MAX_PAYLOAD:
            raise Refused(413, _too_large(int(length)))
        return self.rfile.read(int(length))

    def _chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(LINE_LIMIT).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise Refused(400, "the chunked request body is malformed") from None
            if size <= 0:
                break
            if len(body) + size > MAX_PAYLOAD:
                raise Refused(413, _too_large(len(body) + size))
            body += self.rfile.read(size)
            self.rfile.readline(LINE_LIMIT)  # the line break after the chunk
        while self.rfile.readline(LINE_LIMIT).strip():  # trailers, up to the empty line
            pass
        return bytes(body)

    def _refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if self.headers.get("Content-Length", "0").strip() != "0" or self.headers.get(
            "Transfer-Encoding"
        ):
            headers["Connection"] = "close"  # its body is left unread
        self._send(status, message.encode("utf-8"), TEXT, headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.server.stopping:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _too_large(size: int) -> str:
    return (
        f"the request body ({size} bytes) is larger than {MAX_PAYLOAD} bytes (6 MB), "
        "SageMaker's limit for a real-time endpoint; send fewer rows per request, or use a "
        "batch transform"
    )


def _port() -> int:
    value = os.environ.get(PORT) or str(DEFAULT_PORT)
    if not value.isdigit() or int(value) > 65535:
        raise JobFailed(f"{PORT} {value!r} is not a port number")
    return int(value)


def _listen(model: LoadedModel) -> Server:
    port = _port()
    try:
        return Server(port, model)
    except OSError as error:
        raise JobFailed(f"cannot listen on {HOST}:{port}: {error.strerror or error}") from error


def serve(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="modeldrop-serve-") as scratch:
        server = _listen(load(args, Path(scratch)))

        def stop(signum: int, frame: object) -> None:
            # shutdown() waits for serve_forever to return, so it cannot run on this thread
            threading.Thread(target=server.shutdown).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        print(f"modeldrop serving: listening on {HOST}:{server.server_address[1]}", flush=True)
        server.serve_forever()
        server.close_idle()
        server.server_close()


def _failed(args: argparse.Namespace, text: str, code: int) -> int:
    print(f"modeldrop serving failed: {clean_message(text)}", file=sys.stderr, flush=True)
    if args.failure_file is not None:
        write_failure(args.failure_file, text)
    return code


def run(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        serve(args)
    except JobFailed as failure:
        return _failed(args, str(failure), EXIT_REJECTED)
    except MemoryError:
        text = "the model does not fit in memory; choose an instance type with more memory"
        return _failed(args, text, EXIT_INTERNAL)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        text = (
            f"the serving process failed unexpectedly: {type(error).__name__}: {error}. "
            "This is a modeldrop bug; the endpoint's log has the traceback."
        )
        return _failed(args, text, EXIT_INTERNAL)
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
