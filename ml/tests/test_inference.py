"""The serving handlers and the local batch-transform driver, on raw rows as users have them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import OptMl, mixed_frame
from modeldrop_ml import batch_transform, inference


@pytest.fixture
def trained(opt_ml: OptMl) -> OptMl:
    opt_ml.drop("customers.csv", mixed_frame(300))
    assert opt_ml.preprocess().code == 0
    assert opt_ml.train(hyperparameters={"num_round": "30"}).code == 0
    return opt_ml


def _predict(
    model_dir: Path, body: str | bytes, content_type: str, accept: str = "application/jsonlines"
) -> str:
    model = inference.model_fn(str(model_dir))
    return inference.output_fn(
        inference.predict_fn(inference.input_fn(body, content_type), model), accept
    )


def test_csv_rows_with_a_header_in_any_order_and_extra_columns_are_predicted(
    trained: OptMl,
) -> None:
    body = "member;city;income;age;joined;churn;extra\nyes;Paris;90000;25;2021-01-01;;1\nno;?;NA;70;;;2\n"

    lines = _predict(trained.model, body, "text/csv").splitlines()

    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["prediction"] in ("churned", "stayed")
    assert set(first["probabilities"]) == {"churned", "stayed"}
    assert sum(first["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_csv_rows_without_a_header_follow_the_training_file_column_order(trained: OptMl) -> None:
    body = "1,90000,25,Paris,yes,2021-01-01,x\n2,,70,Atlantis,no,,x\n"

    lines = _predict(trained.model, body, "text/csv", accept="text/csv").splitlines()

    assert len(lines) == 2
    label, *probabilities = lines[0].split(",")
    assert label in ("churned", "stayed")
    assert len(probabilities) == 2


def test_rows_of_the_wrong_width_are_refused_with_the_expected_columns(trained: OptMl) -> None:
    with pytest.raises(inference.InvalidInput, match="must hold the 7 input columns"):
        _predict(trained.model, "1,2,3\n", "text/csv")


def test_json_lines_are_predicted(trained: OptMl) -> None:
    body = '{"income": 90000, "age": 25, "city": "Paris", "member": "yes"}\n{"age": 70}\n'

    lines = _predict(trained.model, body, "application/jsonlines").splitlines()

    assert len(lines) == 2


def test_an_unsupported_content_type_is_named(trained: OptMl) -> None:
    with pytest.raises(inference.InvalidInput, match="application/xml"):
        _predict(trained.model, "<a/>", "application/xml")


def test_batch_transform_splits_lines_into_payloads_and_keeps_row_order(
    trained: OptMl, tmp_path: Path
) -> None:
    source = trained.processed / "transform" / "test.csv"
    rows = source.read_text().splitlines()
    out = tmp_path / "predictions"

    code = batch_transform.run(
        [
            "--model",
            str(trained.model),
            "--input",
            str(source),
            "--output",
            str(out),
            "--batch-strategy",
            "SingleRecord",
        ]
    )

    assert code == 0
    single = (out / "test.csv.out").read_text().splitlines()
    assert len(single) == len(rows)
    code = batch_transform.run(
        ["--model", str(trained.model), "--input", str(source), "--output", str(out)]
    )
    assert code == 0
    assert (out / "test.csv.out").read_text().splitlines() == single


def test_batch_transform_failure_names_the_file(trained: OptMl, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")

    code = batch_transform.run(
        ["--model", str(trained.model), "--input", str(bad), "--output", str(tmp_path / "o")]
    )

    assert code == 1
    failure = (trained.root / "output" / "failure").read_text()
    assert failure.startswith("bad.csv: rows without a header")
