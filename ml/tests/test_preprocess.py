"""preprocess: reading what users drop, inferring what to learn, splitting, and rejecting."""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import OptMl, mixed_frame
from modeldrop_ml import preprocess, tables
from sklearn.datasets import load_iris, load_wine

# An absolute path as a failure message might show one: /tmp/..., /opt/ml/..., '/home/...'.
ABSOLUTE_PATH = re.compile(r"(^|[\s'\"(=])/\w")

# --- reading ----------------------------------------------------------------------------------


def test_a_semicolon_csv_with_quotes_newlines_and_a_bom_is_read(opt_ml: OptMl) -> None:
    rows = ["name;note;size;label"]
    for i in range(60):
        note = '"line one\nline two; with a semicolon"' if i % 10 == 0 else f"note {i}"
        rows.append(f"item {i};{note};{i % 7}.5;{'a' if i % 2 else 'b'}")
    opt_ml.drop("quirky.csv", codecs.BOM_UTF8 + "\n".join(rows).encode())

    result = opt_ml.preprocess()

    assert result.code == 0, result.failure
    profile = opt_ml.profile()
    assert profile["delimiter"] == ";"
    assert profile["encoding"] == "utf-8-sig"
    assert profile["rows"] == 60
    assert [c["name"] for c in profile["columns"]] == ["name", "note", "size", "label"]


def test_missing_markers_become_missing_values(opt_ml: OptMl) -> None:
    frame = mixed_frame(100)
    text = frame.to_csv(index=False)
    lines = text.splitlines()
    for i, marker in zip(
        range(1, 9), ["NA", "?", "NaN", "", "N/A", "null", "NA", "?"], strict=True
    ):
        cells = lines[i].split(",")
        cells[1] = marker  # income
        lines[i] = ",".join(cells)
    opt_ml.drop("markers.csv", "\n".join(lines) + "\n")

    assert opt_ml.preprocess().code == 0
    income = next(c for c in opt_ml.profile()["columns"] if c["name"] == "income")
    assert income["type"] == "double"
    assert income["missing_pct"] > 5


def test_utf16_with_a_bom_is_read(opt_ml: OptMl) -> None:
    text = mixed_frame(60).to_csv(index=False)
    opt_ml.drop("excel.csv", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    assert opt_ml.preprocess().code == 0
    assert opt_ml.profile()["encoding"] == "utf-16"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_recognised_and_read(
    opt_ml: OptMl, encoding: str
) -> None:
    text = mixed_frame(60).to_csv(index=False).replace("Lyon", "Lyon–Saint-Exupéry")
    opt_ml.drop("export.csv", text.encode(encoding))

    result = opt_ml.preprocess()

    assert result.code == 0, result.failure
    profile = opt_ml.profile()
    assert profile["encoding"] == encoding
    assert [c["name"] for c in profile["columns"]][:3] == ["customer_id", "income", "age"]
    city = next(c for c in profile["columns"] if c["name"] == "city")
    assert "Lyon–Saint-Exupéry" in city["top_values"]


def test_parquet_is_read_with_its_types(opt_ml: OptMl) -> None:
    opt_ml.drop("data.parquet", mixed_frame(120))

    assert opt_ml.preprocess().code == 0
    assert opt_ml.profile()["format"] == "parquet"
    assert opt_ml.inference("target") == "churn"


def test_duplicate_and_blank_header_names_are_renamed_and_reported(opt_ml: OptMl) -> None:
    frame = mixed_frame(80)
    text = (
        frame.to_csv(index=False)
        .replace("income,age", "income,income", 1)
        .replace(",constant,", ",,", 1)
    )
    opt_ml.drop("dupes.csv", text)

    assert opt_ml.preprocess().code == 0
    renamed = opt_ml.profile()["renamed_columns"]
    assert "income.2" in renamed.values()
    assert any(name.startswith("column_") for name in renamed.values())


# --- inference --------------------------------------------------------------------------------


def test_a_column_named_like_a_target_is_chosen_and_ids_and_constants_dropped(
    opt_ml: OptMl,
) -> None:
    frame = mixed_frame(200).rename(columns={"churn": "Label"})
    frame = frame[["Label", *[c for c in frame.columns if c != "Label"]]]
    opt_ml.drop("customers.csv", frame)

    assert opt_ml.preprocess().code == 0
    assert opt_ml.inference("target") == "Label"
    assert opt_ml.inference("task") == "binary"
    assert opt_ml.inference("column customer_id") == "dropped"
    assert opt_ml.inference("column constant") == "dropped"
    assert opt_ml.inference("column joined") == "datetime"
    assert opt_ml.inference("column city") == "categorical"


def _why(opt_ml: OptMl, what: str) -> str:
    return next(item["why"] for item in opt_ml.profile()["inferences"] if item["what"] == what)


def test_near_unique_ids_are_dropped_and_many_level_text_is_kept(opt_ml: OptMl) -> None:
    rng = np.random.default_rng(3)
    rows = 300
    passenger = rng.permutation(rows) + 1
    passenger[:20] = passenger[20:40]  # a few repeats: 93% distinct, not unique
    zips = np.array([f"Z{code:05d}" for code in rng.integers(0, 180, rows)])
    frame = pd.DataFrame(
        {
            "PassengerId": passenger,
            "ticket": np.cumsum(rng.integers(1, 9, rows)),  # counts up, with gaps
            "age": rng.integers(1, 90, rows),
            "zip": zips,
            "target": (np.char.str_len(zips) + rng.integers(0, 2, rows)) % 2,
        }
    )
    opt_ml.drop("passengers.csv", frame)

    assert opt_ml.preprocess().code == 0
    assert opt_ml.inference("column PassengerId") == "dropped"
    assert _why(opt_ml, "column PassengerId") == (
        "ID-like: whole numbers 93% distinct, named like an id"
    )
    assert opt_ml.inference("column ticket") == "dropped"
    assert "counting up row by row" in _why(opt_ml, "column ticket")
    assert opt_ml.inference("column age") == "numeric"
    assert opt_ml.inference("column zip") == "categorical"
    assert "target-encode" in _why(opt_ml, "column zip")


def test_without_a_named_target_the_last_column_is_used_and_the_reason_recorded(
    opt_ml: OptMl,
) -> None:
    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    opt_ml.drop("wine.csv", frame)

    assert opt_ml.preprocess().code == 0
    target = next(i for i in opt_ml.profile()["inferences"] if i["what"] == "target")
    assert target["value"] == "cultivar"
    assert "last column" in target["why"]
    assert opt_ml.inference("task") == "multiclass"


def test_a_continuous_numeric_target_is_regression(opt_ml: OptMl) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=100), "price": rng.normal(100, 20, 100)})
    opt_ml.drop("prices.csv", frame)

    assert opt_ml.preprocess().code == 0
    assert opt_ml.inference("task") == "regression"


def test_the_target_and_task_options_win_over_inference(opt_ml: OptMl) -> None:
    frame = load_iris(as_frame=True).frame
    opt_ml.drop("iris.csv", frame)

    assert opt_ml.preprocess({"target": "petal length (cm)", "task": "regression"}).code == 0
    assert opt_ml.inference("target") == "petal length (cm)"
    assert opt_ml.inference("task") == "regression"


def test_ignore_columns_are_dropped_with_the_reason(opt_ml: OptMl) -> None:
    opt_ml.drop("customers.csv", mixed_frame(100))

    assert opt_ml.preprocess({"ignoreColumns": ["city"]}).code == 0
    assert opt_ml.profile()["columns"][3]["role"] == "dropped"


def test_an_empty_feature_column_is_dropped(opt_ml: OptMl) -> None:
    frame = mixed_frame(100)
    frame.insert(1, "blank", None)
    opt_ml.drop("blank.csv", frame)

    assert opt_ml.preprocess().code == 0
    assert opt_ml.inference("column blank") == "dropped"


def test_a_mostly_numeric_text_column_is_read_as_numbers(opt_ml: OptMl) -> None:
    frame = mixed_frame(200)
    frame["weight"] = [f"{v:.1f}" for v in np.linspace(50, 90, 200)]
    frame.loc[3, "weight"] = "heavy"
    opt_ml.drop("w.csv", frame)

    assert opt_ml.preprocess({"target": "churn"}).code == 0
    assert opt_ml.inference("column weight") == "numeric"


# --- splitting --------------------------------------------------------------------------------


def test_the_split_is_stratified_seeded_and_complete(opt_ml: OptMl) -> None:
    frame = load_iris(as_frame=True).frame
    opt_ml.drop("iris.csv", frame)

    assert opt_ml.preprocess({"split": {"validation": 0.2, "test": 0.2, "seed": 3}}).code == 0
    parts = {
        name: pd.read_parquet(opt_ml.processed / name / "data.parquet")
        for name in ("train", "validation", "test")
    }
    first = {name: part.copy() for name, part in parts.items()}
    assert sum(len(part) for part in parts.values()) == 150
    assert len(parts["test"]) == 30
    for part in parts.values():
        counts = part["target"].value_counts()
        assert counts.max() - counts.min() <= 1  # each class equally represented
    assert opt_ml.preprocess({"split": {"validation": 0.2, "test": 0.2, "seed": 3}}).code == 0
    for name in parts:
        again = pd.read_parquet(opt_ml.processed / name / "data.parquet")
        pd.testing.assert_frame_equal(first[name], again)


def test_the_transform_input_holds_the_test_rows_without_target_or_header(opt_ml: OptMl) -> None:
    opt_ml.drop("customers.csv", mixed_frame(200))

    assert opt_ml.preprocess().code == 0
    lines = (opt_ml.processed / "transform" / "test.csv").read_text().splitlines()
    test_rows = len(pd.read_parquet(opt_ml.processed / "test" / "data.parquet"))
    assert len(lines) == test_rows
    assert not lines[0].startswith('"customer_id"')
    assert all(len(line.split(",")) == 7 for line in lines)  # every input column except churn


def test_the_profile_records_missing_share_and_target_balance(opt_ml: OptMl) -> None:
    opt_ml.drop("customers.csv", mixed_frame(400))

    assert opt_ml.preprocess().code == 0
    profile = opt_ml.profile()
    assert profile["rows"] == 400
    city = next(c for c in profile["columns"] if c["name"] == "city")
    assert city["missing_pct"] == pytest.approx(5.0)
    assert set(profile["target"]["balance"]["counts"]) == {"churned", "stayed"}
    schema = json.loads((opt_ml.processed / "train" / "dataset.json").read_text())
    assert schema["classes"] == ["churned", "stayed"]


# --- bad input --------------------------------------------------------------------------------


def _rejected(
    opt_ml: OptMl, name: str, content: bytes | str | pd.DataFrame, options: dict | None = None
) -> str:
    """The failure paragraph of a dataset rejected as bad input: exit 1, no machine path."""
    opt_ml.drop(name, content)
    result = opt_ml.preprocess(options)
    assert result.code == 1, result.failure
    assert result.failure
    assert "Traceback" not in result.failure
    assert "modeldrop bug" not in result.failure
    assert str(opt_ml.root) not in result.failure
    assert not ABSOLUTE_PATH.search(result.failure), result.failure
    return result.failure


def test_an_empty_file_is_rejected(opt_ml: OptMl) -> None:
    assert "empty" in _rejected(opt_ml, "empty.csv", b"")


def test_a_header_without_rows_is_rejected(opt_ml: OptMl) -> None:
    assert "no data rows" in _rejected(opt_ml, "header.csv", "a,b,c\n")


def test_too_few_rows_are_rejected(opt_ml: OptMl) -> None:
    assert "at least 20" in _rejected(opt_ml, "tiny.csv", mixed_frame(12))


def test_too_few_rows_in_a_class_are_rejected_naming_the_class(opt_ml: OptMl) -> None:
    frame = mixed_frame(100)
    frame.loc[:2, "churn"] = "rare"
    message = _rejected(opt_ml, "rare.csv", frame)
    assert "'rare': 3" in message


def test_a_missing_target_option_names_the_field_and_the_columns(opt_ml: OptMl) -> None:
    message = _rejected(opt_ml, "c.csv", mixed_frame(50), {"target": "nope"})
    assert message.startswith("option target:")
    assert "income" in message


def test_an_all_missing_target_is_rejected(opt_ml: OptMl) -> None:
    frame = mixed_frame(50)
    frame["churn"] = None
    assert "empty in every row" in _rejected(opt_ml, "c.csv", frame, {"target": "churn"})


def test_a_single_class_is_rejected(opt_ml: OptMl) -> None:
    frame = mixed_frame(50)
    frame["churn"] = "stayed"
    assert "single class" in _rejected(
        opt_ml, "c.csv", frame, {"target": "churn", "task": "binary"}
    )


def test_undecodable_text_names_the_encoding_tried_and_the_line(opt_ml: OptMl) -> None:
    text = mixed_frame(50).to_csv(index=False).encode()
    latin1 = text.replace(b"Lyon", "Lyonnais é".encode("latin-1"), 1)
    message = _rejected(opt_ml, "latin1.csv", latin1)
    assert "not valid UTF-8" in message
    assert "tried utf-8" in message
    assert "line" in message


def test_a_binary_file_named_csv_is_rejected(opt_ml: OptMl) -> None:
    message = _rejected(opt_ml, "data.csv", b"PK\x03\x04" + bytes(range(256)) * 4)
    assert "holds a zip archive" in message


def test_infinite_labels_are_rejected(opt_ml: OptMl) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "y": rng.normal(size=60)})
    frame.loc[5, "y"] = np.inf
    assert "infinite" in _rejected(opt_ml, "inf.csv", frame)


def test_many_missing_labels_are_rejected_and_a_few_are_dropped(opt_ml: OptMl) -> None:
    frame = mixed_frame(200)
    frame.loc[:39, "churn"] = "NaN"
    assert "have no value" in _rejected(opt_ml, "nan.csv", frame)

    frame = mixed_frame(200)
    frame.loc[:3, "churn"] = "NaN"
    opt_ml.drop("nan.csv", frame)
    assert opt_ml.preprocess().code == 0
    assert opt_ml.profile()["rows_used"] == 196


def test_ragged_rows_are_skipped_when_rare_and_rejected_when_common(opt_ml: OptMl) -> None:
    good = mixed_frame(300).to_csv(index=False)
    opt_ml.drop("ragged.csv", good + "1,2\n")
    assert opt_ml.preprocess().code == 0
    assert opt_ml.profile()["malformed_rows_skipped"] == 1

    message = _rejected(opt_ml, "ragged.csv", good + "1,2\n" * 30)
    assert "do not have the header's" in message


def test_an_unknown_option_is_rejected_by_name(opt_ml: OptMl) -> None:
    message = _rejected(opt_ml, "c.csv", mixed_frame(50), {"targte": "churn"})
    assert message == "option targte: is not a known option"


def test_an_algorithm_that_does_not_fit_the_data_is_rejected_before_training(opt_ml: OptMl) -> None:
    message = _rejected(opt_ml, "c.csv", mixed_frame(50), {"algorithm": "resnet18"})
    assert message.startswith("option algorithm:")


def test_a_metric_for_another_task_is_rejected(opt_ml: OptMl) -> None:
    assert _rejected(opt_ml, "c.csv", mixed_frame(50), {"metric": "rmse"}).startswith(
        "option metric:"
    )


def test_a_mixed_delimiter_csv_names_the_real_line_of_the_first_bad_row(opt_ml: OptMl) -> None:
    lines = mixed_frame(60).to_csv(index=False).splitlines()
    for i in range(5, 60, 3):
        lines[i] = lines[i].replace(",", ";")  # file lines 6, 9, 12, ... use semicolons
    message = _rejected(opt_ml, "mixed.csv", "\n".join(lines) + "\n")

    assert "line None" not in message
    assert "line 6 has 1 field(s) where 8 were expected" in message
    assert "mix ',' and ';' as delimiters" in message


def test_a_truncated_parquet_file_is_named_by_its_file_name_only(opt_ml: OptMl) -> None:
    buffer = io.BytesIO()
    mixed_frame(100).to_parquet(buffer, index=False)
    message = _rejected(opt_ml, "customers.parquet", buffer.getvalue()[:-40])

    assert message.startswith("customers.parquet is not a readable Parquet file:")
    assert "processing" not in message and "input" not in message
    assert "truncated or damaged" in message


def test_utf16_without_a_bom_that_is_cut_short_says_how_it_was_read_and_how_to_fix_it(
    opt_ml: OptMl,
) -> None:
    text = mixed_frame(60).to_csv(index=False).encode("utf-16-le")
    message = _rejected(opt_ml, "export.csv", text + b"A")

    assert "not valid UTF-16 text" in message
    assert "UTF-16 (little-endian) without a byte-order mark" in message
    assert "Re-save the file as UTF-8" in message
    assert "binary data" not in message


def test_a_spreadsheet_workbook_is_rejected_with_what_to_export(opt_ml: OptMl) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = _rejected(opt_ml, "sales.xlsx", buffer.getvalue())

    assert message.startswith("sales.xlsx is a spreadsheet workbook")
    assert "CSV UTF-8" in message


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.json", "rows.csv"])
def test_json_is_rejected_with_what_to_drop_instead(opt_ml: OptMl, name: str) -> None:
    array = name == "rows.json"  # the others hold one object per line
    text = mixed_frame(60).to_json(orient="records", lines=not array)

    message = _rejected(opt_ml, name, text)

    assert message.startswith(f"{name} holds JSON")
    assert "CSV" in message and "Parquet" in message


def test_nested_parquet_columns_are_dropped_as_unsupported(opt_ml: OptMl) -> None:
    table = pa.Table.from_pandas(mixed_frame(100), preserve_index=False)
    table = table.add_column(1, "tags", pa.array([[1, 2]] * 100))
    table = table.add_column(2, "address", pa.array([{"zip": 69000}] * 100))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    opt_ml.drop("nested.parquet", buffer.getvalue())

    result = opt_ml.preprocess()

    assert result.code == 0, result.failure
    assert opt_ml.inference("column tags") == "dropped"
    assert opt_ml.inference("column address") == "dropped"


def test_a_data_library_error_while_reading_is_bad_input_named_by_the_file(
    opt_ml: OptMl, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(path, **_: object) -> None:
        raise pa.ArrowNotImplementedError(f"unsupported feature in '{path}'")

    monkeypatch.setattr(tables.pacsv, "read_csv", unreadable)
    message = _rejected(opt_ml, "customers.csv", mixed_frame(50))

    assert message.startswith(
        "customers.csv cannot be read: unsupported feature in 'customers.csv'"
    )
    assert "Re-export the table as CSV (UTF-8) or Parquet" in message


def test_an_error_outside_the_readers_is_still_a_modeldrop_bug_without_machine_paths(
    opt_ml: OptMl, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise KeyError(f"{opt_ml.root}/processing/input/data/customers.csv")

    monkeypatch.setattr(preprocess, "choose_target", broken)
    opt_ml.drop("customers.csv", mixed_frame(50))

    result = opt_ml.preprocess()

    assert result.code == 2
    assert result.failure
    assert "KeyError" in result.failure and "This is a modeldrop bug" in result.failure
    assert "'customers.csv'" in result.failure
    assert str(opt_ml.root) not in result.failure
    assert not ABSOLUTE_PATH.search(result.failure)
