"""The serving handlers and the local batch-transform driver, on raw rows as users have them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import OptMl, mixed_frame
from modeldrop_ml import batch_transform, inference
from sklearn.datasets import load_breast_cancer

FEATURES = "income, age, city, member, joined"


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


def test_rows_of_the_wrong_width_are_refused_with_the_expected_and_given_counts(
    trained: OptMl,
) -> None:
    body = "1,90000,25,Paris,yes,2021-01-01,x\n1,2,3\n"

    with pytest.raises(inference.InvalidInput) as raised:
        _predict(trained.model, body, "text/csv")

    assert str(raised.value) == (
        "line 2: rows without a header must hold 7 fields, the input columns of the training "
        "file in order (customer_id, income, age, city, member, joined, constant); this row "
        "holds 3. Or send a header row naming the columns."
    )


def _breast_cancer_csv(rows: int) -> str:
    return load_breast_cancer(as_frame=True).frame.head(rows).to_csv(index=False)


@pytest.mark.parametrize("rows", [5, 0])
def test_a_header_from_another_dataset_names_the_missing_and_extra_columns(
    trained: OptMl, rows: int
) -> None:
    with pytest.raises(inference.InvalidInput) as raised:
        _predict(trained.model, _breast_cancer_csv(rows), "text/csv")

    message = str(raised.value)
    assert message.startswith("line 1: the columns do not match this model's: ")
    assert f"missing columns: {FEATURES}; " in message
    assert "extra columns: mean radius, mean texture, mean perimeter," in message
    assert "and 21 more." in message  # 30 features and the target, 10 named
    assert "without a header" not in message


def test_a_renamed_column_is_named_missing_and_its_new_name_extra(trained: OptMl) -> None:
    body = "is_member,city,income,age,joined\nyes,Paris,90000,25,2021-01-01\n"

    with pytest.raises(
        inference.InvalidInput, match=r"missing columns: member; extra columns: is_member\."
    ):
        _predict(trained.model, body, "text/csv")


def test_a_header_with_rows_of_another_width_says_both_counts(trained: OptMl) -> None:
    body = "member,city,income,age,joined\nyes,Paris,90000,25,2021-01-01\nno,Lyon\n"

    with pytest.raises(inference.InvalidInput) as raised:
        _predict(trained.model, body, "text/csv")

    assert str(raised.value) == "line 3: the row holds 2 fields, but the header row names 5"


def test_json_lines_are_predicted(trained: OptMl) -> None:
    body = (
        '{"income": 90000, "age": 25, "city": "Paris", "member": "yes", "joined": null}\n'
        '{"age": 70}\n'
    )

    lines = _predict(trained.model, body, "application/jsonlines").splitlines()

    assert len(lines) == 2


def test_json_lines_without_a_feature_name_the_missing_and_extra_columns(
    trained: OptMl,
) -> None:
    body = '{"income": 90000, "age": 25, "city": "Paris", "member": "yes", "id": 7}\n'

    with pytest.raises(inference.InvalidInput) as raised:
        _predict(trained.model, body, "application/jsonlines")

    assert "missing columns: joined; extra columns: id." in str(raised.value)


def test_a_nested_json_value_is_refused_with_its_line_and_column(trained: OptMl) -> None:
    body = (
        '{"income": 1, "age": 2, "city": "Paris", "member": "yes", "joined": null}\n'
        '{"income": 1, "age": [2], "city": "Paris", "member": "yes", "joined": null}\n'
    )

    with pytest.raises(inference.InvalidInput, match=r"^line 2: column 'age' holds a JSON array"):
        _predict(trained.model, body, "application/jsonlines")


def test_a_csv_field_past_the_csv_limit_is_invalid_input() -> None:
    with pytest.raises(inference.InvalidInput, match="the request is not readable CSV"):
        inference.input_fn("a,b\n" + "x" * 200_000 + ",1\n", "text/csv")


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


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_batch_transform_failure_names_the_file_and_its_line(
    trained: OptMl, tmp_path: Path, strategy: str
) -> None:
    good = "1,90000,25,Paris,yes,2021-01-01,x\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(good * 2 + "1,2\n")

    code = batch_transform.run(
        [
            *("--model", str(trained.model), "--input", str(bad)),
            *("--output", str(tmp_path / "o"), "--batch-strategy", strategy),
        ]
    )

    assert code == 1
    failure = (trained.root / "output" / "failure").read_text()
    assert failure.startswith("bad.csv, line 3: rows without a header must hold 7 fields")
    assert "this row holds 2" in failure


def test_batch_transform_of_another_dataset_fails_as_bad_input_without_paths(
    trained: OptMl, tmp_path: Path
) -> None:
    rows = tmp_path / "breast-cancer.csv"
    rows.write_text(_breast_cancer_csv(20))

    code = batch_transform.run(
        ["--model", str(trained.model), "--input", str(rows), "--output", str(tmp_path / "o")]
    )

    assert code == 1
    failure = (trained.root / "output" / "failure").read_text()
    assert failure.startswith("breast-cancer.csv, line 1: the columns do not match this model's")
    assert f"missing columns: {FEATURES};" in failure
    assert str(tmp_path) not in failure
