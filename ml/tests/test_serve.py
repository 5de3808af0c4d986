"""The endpoint's serving process, over HTTP as the local cloud and its users reach it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import OptMl, mixed_frame
from sklearn.linear_model import LogisticRegression

ML_DIR = Path(__file__).resolve().parent.parent
HEADER_ROWS = "member,city,income,age,joined\nyes,Paris,90000,25,2021-01-01\nno,Lyon,20000,70,\n"
HEADERLESS_ROWS = "1,90000,25,Paris,yes,2021-01-01,x\n2,,70,Atlantis,no,,x\n"
JSON_ROWS = (
    '[{"income": 90000, "age": 25, "city": "Paris", "member": "yes", "joined": null}, {"age": 70}]'
)

USER_SCRIPT = """
import json
import os
import time
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(rows, model):
    if rows[0][0] == 99:
        time.sleep(1.5)  # a slow request, to stop the endpoint while it is in flight
    return [int(label) for label in model.predict(rows)]
"""

FAILING_PREDICT = """
import os
import joblib

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def predict_fn(rows, model):
    prices = {}
    return prices["price"]
"""


@dataclass
class Endpoint:
    process: subprocess.Popen[bytes]
    port: int
    logs: Path

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> tuple[int, dict[str, str], str]:
        """(status, headers, body) of one request, on ``connection`` when given."""
        client = connection or self.connection()
        data = body.encode("utf-8") if isinstance(body, str) else body
        client.request(method, path, body=data, headers=headers or {})
        response = client.getresponse()
        text = response.read().decode("utf-8")
        if connection is None:
            client.close()
        return response.status, dict(response.getheaders()), text

    def invoke(self, body: bytes | str, **headers: str) -> tuple[int, dict[str, str], str]:
        names = {"content_type": "Content-Type", "accept": "Accept"}
        return self.request(
            "POST", "/invocations", body, {names[key]: value for key, value in headers.items()}
        )

    def stdout(self) -> str:
        return (self.logs / "stdout").read_text()

    def stderr(self) -> str:
        return (self.logs / "stderr").read_text()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(
    model: Path, logs: Path, environment: dict[str, str] | None = None, *args: str
) -> subprocess.Popen[bytes]:
    logs.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    variables = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SAGEMAKER_")},
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ML_DIR), os.environ.get("PYTHONPATH")])),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        **(environment or {}),
    }
    with (logs / "stdout").open("wb") as stdout, (logs / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "modeldrop_ml.serve", "--model", str(model), *args],
            env=variables,
            stdout=stdout,
            stderr=stderr,
        )


def _serve(
    model: Path, logs: Path, environment: dict[str, str] | None = None, *args: str
) -> Endpoint:
    """The process serving ``model``, once /ping answers 200."""
    process = _start(model, logs, environment, *args)
    endpoint = Endpoint(process, 0, logs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, endpoint.stderr()
        line = endpoint.stdout()
        if "listening on" in line:
            endpoint.port = int(line.strip().rsplit(":", 1)[1])
            if endpoint.request("GET", "/ping")[0] == 200:
                return endpoint
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the endpoint did not answer /ping: {endpoint.stderr()}")


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """modeldrop's own model, trained once for the module as the `opt_ml` fixture trains."""
    root = tmp_path_factory.mktemp("opt-ml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELDROP_OPT_ML", str(root))
        for variable in ("SM_MODEL_DIR", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION"):
            patch.delenv(variable, raising=False)
        opt_ml = OptMl(root)
        opt_ml.drop("customers.csv", mixed_frame(300))
        assert opt_ml.preprocess().code == 0
        assert opt_ml.train(hyperparameters={"num_round": "30"}).code == 0
    return opt_ml.model


@pytest.fixture(scope="module")
def endpoint(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    served = _serve(trained_model, tmp_path_factory.mktemp("logs"))
    yield served
    served.process.kill()
    served.process.wait()


@pytest.fixture
def user_model(tmp_path: Path) -> Path:
    """An unpacked model the SageMaker Python SDK's script training left: a bare model.joblib."""
    features = np.array([[2.0, -1.0], [2.2, -1.3], [-0.2, 0.5], [-0.4, 0.3]])
    folder = tmp_path / "model"
    folder.mkdir()
    joblib.dump(LogisticRegression().fit(features, [1, 1, 0, 0]), folder / "model.joblib")
    return folder


def _script(tmp_path: Path, name: str, source: str) -> tuple[dict[str, str], str, str]:
    """The container environment and the --code argument of a model served by ``source``, as
    the local cloud starts it with the SDK's sourcedir.tar.gz unpacked."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / name).write_text(textwrap.dedent(source))
    environment = {
        "SAGEMAKER_PROGRAM": name,
        "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bucket/sdk/sourcedir.tar.gz",
    }
    return environment, "--code", str(code)


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# --- modeldrop's own model ------------------------------------------------------------------


def test_the_endpoint_says_where_it_listens_and_answers_ping(endpoint: Endpoint) -> None:
    status, _, body = endpoint.request("GET", "/ping")

    assert status == 200
    assert body == ""
    assert endpoint.stdout() == f"modeldrop serving: listening on 127.0.0.1:{endpoint.port}\n"


@pytest.mark.parametrize(
    ("rows", "content_type"),
    [
        (HEADER_ROWS, "text/csv"),
        (HEADERLESS_ROWS, "text/csv"),
        (JSON_ROWS, "application/json"),
        ("\n".join(json.dumps(row) for row in json.loads(JSON_ROWS)), "application/jsonlines"),
    ],
    ids=["csv-header", "csv-headerless", "json", "jsonlines"],
)
def test_rows_are_answered_with_one_json_line_of_prediction_and_probabilities_each(
    endpoint: Endpoint, rows: str, content_type: str
) -> None:
    status, headers, body = endpoint.invoke(rows, content_type=content_type)

    assert status == 200, body
    assert headers["Content-Type"] == "application/jsonlines"
    predictions = _lines(body)
    assert len(predictions) == 2
    assert predictions[0]["prediction"] in ("churned", "stayed")
    assert set(predictions[0]["probabilities"]) == {"churned", "stayed"}  # type: ignore[arg-type]


def test_a_request_without_a_content_type_is_read_as_csv(endpoint: Endpoint) -> None:
    status, headers, body = endpoint.request("POST", "/invocations", HEADER_ROWS)

    assert status == 200, body
    assert headers["Content-Type"] == "application/jsonlines"
    assert len(_lines(body)) == 2


def test_accept_text_csv_is_answered_with_a_label_and_the_probabilities_per_row(
    endpoint: Endpoint,
) -> None:
    status, headers, body = endpoint.invoke(HEADER_ROWS, content_type="text/csv", accept="text/csv")

    assert status == 200, body
    assert headers["Content-Type"] == "text/csv"
    rows = [line.split(",") for line in body.splitlines()]
    assert len(rows) == 2
    assert rows[0][0] in ("churned", "stayed")
    assert len(rows[0]) == 3


def test_several_requests_share_one_kept_alive_connection(endpoint: Endpoint) -> None:
    connection = endpoint.connection()
    connection.connect()
    first_socket = connection.sock

    answers = [
        endpoint.request(
            "POST", "/invocations", HEADER_ROWS, {"Content-Type": "text/csv"}, connection
        )
        for _ in range(5)
    ]
    answers.append(endpoint.request("GET", "/ping", connection=connection))
    answers.append(
        endpoint.request(
            "POST", "/invocations", "a,b\n1,2\n", {"Content-Type": "text/csv"}, connection
        )
    )
    answers.append(endpoint.request("GET", "/ping", connection=connection))

    assert [status for status, _, _ in answers] == [200] * 5 + [200, 400, 200]
    assert connection.sock is first_socket
    connection.close()


def test_rows_missing_a_feature_are_refused_with_400_naming_the_columns(
    endpoint: Endpoint,
) -> None:
    status, headers, body = endpoint.invoke("member,city\nyes,Paris\n", content_type="text/csv")

    assert status == 400
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "missing columns: income, age, joined" in body


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"content_type": "application/xml"}, "content type 'application/xml'"),
        ({"content_type": "text/csv", "accept": "application/x-npy"}, "accept type"),
    ],
    ids=["content-type", "accept"],
)
def test_an_unsupported_content_or_accept_type_is_answered_415(
    endpoint: Endpoint, headers: dict[str, str], named: str
) -> None:
    status, _, body = endpoint.invoke(HEADER_ROWS, **headers)

    assert status == 415
    assert named in body
    assert "is not supported" in body


def test_a_body_over_6_mb_is_answered_413_without_being_read(endpoint: Endpoint) -> None:
    connection = endpoint.connection()
    connection.putrequest("POST", "/invocations")
    connection.putheader("Content-Type", "text/csv")
    connection.putheader("Content-Length", str(6 * 1024 * 1024 + 1))
    connection.endheaders()  # and no body: the answer must not wait for it

    response = connection.getresponse()

    assert response.status == 413
    assert "larger than 6291456 bytes (6 MB)" in response.read().decode()
    connection.close()


def test_a_chunked_body_is_read(endpoint: Endpoint) -> None:
    connection = endpoint.connection()

    chunks = iter([HEADER_ROWS[:20].encode(), HEADER_ROWS[20:].encode()])
    connection.request(
        "POST",
        "/invocations",
        body=chunks,
        headers={"Content-Type": "text/csv"},
        encode_chunked=True,
    )
    response = connection.getresponse()

    assert response.status == 200
    assert len(_lines(response.read().decode())) == 2
    connection.close()


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/predict", 404), ("GET", "/invocations", 405), ("POST", "/ping", 405)],
)
def test_other_paths_and_methods_are_refused(
    endpoint: Endpoint, method: str, path: str, status: int
) -> None:
    assert endpoint.request(method, path, "x")[0] == status


def test_it_listens_on_the_loopback_address_only(endpoint: Endpoint) -> None:
    # Linux routes all of 127.0.0.0/8 to the loopback interface: a server bound to every
    # address (0.0.0.0) would accept this connection too.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", endpoint.port), 2):
        pass


def test_a_model_tar_gz_is_unpacked_and_served(trained_model: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(trained_model.iterdir()):
            tar.add(item, arcname=item.name)
    served = _serve(archive, tmp_path / "logs")

    status, _, body = served.invoke(HEADER_ROWS, content_type="text/csv")

    assert status == 200, body
    assert served.stop() == 0


# --- a user's script ------------------------------------------------------------------------


def test_a_users_script_serves_with_its_own_model_fn_and_predict_fn(
    user_model: Path, tmp_path: Path
) -> None:
    served = _serve(user_model, tmp_path / "logs", *_script(tmp_path, "labels.py", USER_SCRIPT))

    status, headers, body = served.invoke("2.1,-1.2\n-0.3,0.4\n", content_type="text/csv")
    csv_status, csv_headers, csv_body = served.invoke(
        "2.1,-1.2\n", content_type="text/csv", accept="text/csv"
    )

    assert (status, headers["Content-Type"], body) == (200, "application/json", "[1, 0]")
    assert (csv_status, csv_headers["Content-Type"], csv_body) == (200, "text/csv", "1\n")
    assert served.stop() == 0


def test_the_content_type_a_users_handler_returns_is_the_responses(
    user_model: Path, tmp_path: Path
) -> None:
    script = USER_SCRIPT + (
        "\ndef output_fn(labels, accept):\n"
        "    return ','.join(map(str, labels)), 'application/vnd.labels'\n"
    )
    served = _serve(user_model, tmp_path / "logs", *_script(tmp_path, "tuple_answer.py", script))

    status, headers, body = served.invoke("2.1,-1.2\n-0.3,0.4\n", content_type="text/csv")

    assert (status, headers["Content-Type"], body) == (200, "application/vnd.labels", "1,0")
    served.process.kill()


def test_an_exception_in_the_users_predict_fn_is_answered_500_with_its_last_lines(
    user_model: Path, tmp_path: Path
) -> None:
    script = _script(tmp_path, "failing_predict.py", FAILING_PREDICT)
    served = _serve(user_model, tmp_path / "logs", *script)

    status, _, body = served.invoke("2.1,-1.2\n", content_type="text/csv")

    assert status == 500
    assert body.startswith("the model's predict_fn failed:")
    assert "KeyError: 'price'" in body
    assert 'return prices["price"]' in body
    assert served.request("GET", "/ping")[0] == 200  # the endpoint stays in service
    assert "KeyError: 'price'" in served.stderr()  # the traceback, for the endpoint's log
    served.process.kill()


def test_sigterm_finishes_the_request_in_flight_then_exits_0(
    user_model: Path, tmp_path: Path
) -> None:
    served = _serve(user_model, tmp_path / "logs", *_script(tmp_path, "slow.py", USER_SCRIPT))
    idle = served.connection()
    idle.connect()  # a kept-alive connection waiting for its next request must not hold it up
    answers: list[tuple[int, dict[str, str], str]] = []
    in_flight = threading.Thread(
        target=lambda: answers.append(served.invoke("99,0\n", content_type="text/csv"))
    )
    in_flight.start()
    time.sleep(0.5)

    code = served.stop()
    in_flight.join()

    assert code == 0
    assert answers[0][0] == 200
    idle.close()


# --- models that cannot be served -----------------------------------------------------------


def _exit_and_failure(
    model: Path, tmp_path: Path, environment: dict[str, str] | None = None, *args: str
) -> tuple[int, str]:
    failure = tmp_path / "failure"
    process = _start(model, tmp_path / "logs", environment, *args, "--failure-file", str(failure))
    return process.wait(timeout=60), failure.read_text()


def test_a_script_that_cannot_be_imported_ends_the_process_with_the_reason(
    user_model: Path, tmp_path: Path
) -> None:
    script = _script(tmp_path, "broken.py", "import numpy\nimport not_installed_anywhere\n")

    code, failure = _exit_and_failure(user_model, tmp_path, *script)

    assert code == 1
    assert failure.startswith("the model's script broken.py cannot be imported:")
    assert "No module named 'not_installed_anywhere'" in failure
    assert (
        "modeldrop serving failed: the model's script broken.py"
        in (tmp_path / "logs" / "stderr").read_text()
    )


def test_a_program_missing_from_the_code_ends_the_process_with_the_reason(
    user_model: Path, tmp_path: Path
) -> None:
    environment, *code_args = _script(tmp_path, "other.py", "")
    environment["SAGEMAKER_PROGRAM"] = "serve.py"

    code, failure = _exit_and_failure(user_model, tmp_path, environment, *code_args)

    assert code == 1
    assert failure.startswith("SAGEMAKER_PROGRAM serve.py is not in the model's code")


def test_an_empty_model_folder_ends_the_process_with_the_reason(tmp_path: Path) -> None:
    empty = tmp_path / "model"
    empty.mkdir()

    code, failure = _exit_and_failure(empty, tmp_path)

    assert code == 1
    assert failure == "no model found in model: expected model.tar.gz or model.joblib."
