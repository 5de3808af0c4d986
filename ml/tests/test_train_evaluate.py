"""train and evaluate under the container contract, on generated data and sklearn's datasets."""

from __future__ import annotations

import json
import tarfile

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import OptMl, mixed_frame
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine


def _prepared(opt_ml: OptMl, frame: pd.DataFrame, options: dict | None = None) -> None:
    opt_ml.drop("data.csv", frame)
    result = opt_ml.preprocess(options)
    assert result.code == 0, result.failure


def test_training_saves_one_pipeline_with_history_and_library_versions(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(300))

    result = opt_ml.train(hyperparameters={"num_round": "30", "max_depth": "3"})

    assert result.code == 0, result.failure
    assert {p.name for p in opt_ml.model.iterdir()} == {
        "model.joblib",
        "history.json",
        "model-info.json",
        "dataset.json",
        "candidate.json",
        "oof.npz",
    }
    info = json.loads((opt_ml.model / "model-info.json").read_text())
    assert info["algorithm"] == "xgboost"
    assert (info["task"], info["target"]) == ("binary", "churn")
    assert info["features"] == [
        {"name": "income", "kind": "numeric"},
        {"name": "age", "kind": "numeric"},
        {"name": "city", "kind": "categorical"},
        {"name": "member", "kind": "categorical"},
        {"name": "joined", "kind": "datetime"},
    ]
    assert info["input_columns"][0] == "customer_id"
    assert info["pinned_hyperparameters"] == {"num_round": 30, "max_depth": 3}
    assert info["hyperparameters"]["max_depth"] == 3
    assert info["hyperparameters"]["num_round"] <= 30
    assert info["libraries"]["xgboost"] == "3.2.0"
    history = json.loads((opt_ml.model / "history.json").read_text())
    assert 1 <= len(history["rounds"]) <= 30
    model = joblib.load(opt_ml.model / "model.joblib")
    raw = pd.DataFrame(
        {
            "income": ["60000"],
            "age": ["30"],
            "city": ["Paris"],
            "member": ["yes"],
            "joined": ["2021-05-01"],
        }
    )
    assert model.predict(raw).labels[0] in ("churned", "stayed")


def test_command_line_hyperparameters_override_the_file_as_the_toolkit_passes_them(
    opt_ml: OptMl,
) -> None:
    _prepared(opt_ml, mixed_frame(200))

    result = opt_ml.train(
        ["--max_depth", "2", "--num_round", "5"], {"max_depth": "8", "learning_rate": "0.3"}
    )

    assert result.code == 0, result.failure
    info = json.loads((opt_ml.model / "model-info.json").read_text())
    assert info["pinned_hyperparameters"] == {"max_depth": 2, "num_round": 5, "learning_rate": 0.3}


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"max_depth": "deep"}, "option hyperparameters.max_depth: 'deep' is not a valid integer"),
        ({"max_depth": "0"}, "option hyperparameters.max_depth: 0 is less than the minimum of 1"),
        ({"max_dept": "3"}, "option hyperparameters.max_dept: is not a known hyperparameter"),
        (
            {"n_estimators": "10"},
            "option hyperparameters.n_estimators: does not apply to xgboost (it applies to random_forest, extra_trees)",
        ),
        (
            {"algorithm": "resnet18"},
            "option algorithm: resnet18 trains on images, but this dataset is binary",
        ),
        (
            {"algorithm": "svm"},
            "option algorithm: 'svm' is not one of xgboost, lightgbm, random_forest, extra_trees, linear, resnet18",
        ),
    ],
)
def test_bad_hyperparameters_fail_with_the_field_named(
    opt_ml: OptMl, hyperparameters: dict, message: str
) -> None:
    _prepared(opt_ml, mixed_frame(100))

    result = opt_ml.train(hyperparameters=hyperparameters)

    assert result.code == 1
    assert result.failure == message


def test_an_unknown_command_line_argument_reaches_the_failure_file(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(100))

    result = opt_ml.train(["--bogus", "1"])

    assert result.code == 1
    assert "unrecognized arguments: --bogus 1" in (result.failure or "")


def test_training_without_preprocessed_channels_explains_itself(opt_ml: OptMl) -> None:
    result = opt_ml.train()

    assert result.code == 1
    assert "has no dataset.json" in (result.failure or "")


@pytest.mark.parametrize(
    "algorithm", ["xgboost", "lightgbm", "random_forest", "extra_trees", "linear"]
)
def test_each_tabular_algorithm_trains_and_evaluates_a_binary_task(
    opt_ml: OptMl, algorithm: str
) -> None:
    _prepared(opt_ml, mixed_frame(400))
    hyperparameters = {
        "algorithm": algorithm,
        **({"n_estimators": "50"} if algorithm in ("random_forest", "extra_trees") else {}),
    }

    assert opt_ml.train(hyperparameters=hyperparameters).code == 0
    result = opt_ml.evaluate()

    assert result.code == 0, result.failure
    found = opt_ml.evaluation_json()["binary_classification_metrics"]
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"):
        assert set(found[name]) == {"value", "standard_deviation"}
    assert found["roc_auc"]["value"] > 0.75
    assert sum(sum(row.values()) for row in found["confusion_matrix"].values()) == 60
    plots = {p.name for p in (opt_ml.evaluation / "plots").iterdir()}
    assert {
        "roc.png",
        "precision_recall.png",
        "confusion_matrix.png",
        "feature_importance.png",
    } <= plots


def test_a_multiclass_evaluation_uses_the_multiclass_layout(opt_ml: OptMl) -> None:
    _prepared(opt_ml, load_wine(as_frame=True).frame)

    assert opt_ml.train(hyperparameters={"num_round": "50"}).code == 0
    assert opt_ml.evaluate().code == 0

    evaluation = opt_ml.evaluation_json()
    found = evaluation["multiclass_classification_metrics"]
    assert found["accuracy"]["value"] > 0.8
    assert set(found["confusion_matrix"]) == {"0", "1", "2"}
    assert evaluation["modeldrop"]["classes"] == ["0", "1", "2"]
    assert "training_curve.png" in evaluation["modeldrop"]["plots"]
    info = evaluation["modeldrop"]["model_info"]
    assert info["algorithm"] == "xgboost"
    assert "xgboost" in info["libraries"]


def test_a_regression_evaluation_has_rmse_mae_r2_and_residual_plots(opt_ml: OptMl) -> None:
    _prepared(opt_ml, load_diabetes(as_frame=True).frame)

    assert opt_ml.train(hyperparameters={"num_round": "100", "max_depth": "3"}).code == 0
    assert opt_ml.evaluate().code == 0

    evaluation = opt_ml.evaluation_json()
    found = evaluation["regression_metrics"]
    assert set(found) == {"rmse", "mae", "r2"}
    assert found["r2"]["value"] > 0.2
    assert {"residuals.png", "predicted_vs_actual.png"} <= set(evaluation["modeldrop"]["plots"])


def test_evaluate_reads_the_model_tar_gz_sagemaker_uploads(opt_ml: OptMl) -> None:
    _prepared(opt_ml, load_breast_cancer(as_frame=True).frame)
    assert opt_ml.train(hyperparameters={"num_round": "20"}).code == 0
    packed = opt_ml.root / "packed"
    packed.mkdir()
    with tarfile.open(packed / "model.tar.gz", "w:gz") as tar:
        for path in opt_ml.model.iterdir():
            tar.add(path, arcname=path.name)
    for path in opt_ml.model.iterdir():
        path.unlink()
    opt_ml.model.rmdir()
    packed.rename(opt_ml.model)

    assert opt_ml.evaluate().code == 0
    assert opt_ml.evaluation_json()["binary_classification_metrics"]["accuracy"]["value"] > 0.9


def test_evaluate_rejects_an_archive_that_is_not_a_model(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(100))
    opt_ml.model.mkdir()
    (opt_ml.model / "model.tar.gz").write_bytes(b"not a tarball")

    result = opt_ml.evaluate()

    assert result.code == 1
    assert "not a readable model archive" in (result.failure or "")


def test_column_names_xgboost_refuses_train_and_keep_their_names_in_the_importance(
    opt_ml: OptMl,
) -> None:
    frame = mixed_frame(300).rename(columns={"income": "income [eur] <net>", "age": "age<y>"})
    _prepared(opt_ml, frame)

    result = opt_ml.train(hyperparameters={"num_round": "20"})

    assert result.code == 0, result.failure
    assert opt_ml.evaluate().code == 0
    importance = opt_ml.evaluation_json()["modeldrop"]["feature_importance"]
    assert "income [eur] <net>" in importance
    model = joblib.load(opt_ml.model / "model.joblib")
    raw = pd.DataFrame(
        {
            "income [eur] <net>": ["60000"],
            "age<y>": ["30"],
            "city": ["Paris"],
            "member": ["yes"],
            "joined": ["2021-05-01"],
        }
    )
    assert model.predict(raw).labels[0] in ("churned", "stayed")


@pytest.mark.parametrize("algorithm", ["extra_trees", "linear", "lightgbm", "xgboost"])
def test_a_many_level_category_that_carries_the_signal_is_learned_and_unseen_levels_predict(
    opt_ml: OptMl, algorithm: str
) -> None:
    """Zip codes decide the label; the learners must use them (target-encoded by the
    scikit-learn learners, split natively by the boosters), and a zip never seen still predicts."""
    rng = np.random.default_rng(5)
    rows = 1_200
    codes = rng.integers(0, 150, rows)
    frame = pd.DataFrame(
        {
            "zip": [f"Z{code:03d}" for code in codes],
            "noise": rng.normal(size=rows),
            "target": np.where((codes % 3 == 0) ^ (rng.random(rows) < 0.05), "yes", "no"),
        }
    )
    _prepared(opt_ml, frame)

    assert opt_ml.train(hyperparameters={"algorithm": algorithm}).code == 0
    assert opt_ml.evaluate().code == 0

    assert opt_ml.evaluation_json()["binary_classification_metrics"]["roc_auc"]["value"] > 0.85
    model = joblib.load(opt_ml.model / "model.joblib")
    unseen = model.predict(pd.DataFrame({"zip": ["Z999"], "noise": [0.1]}))
    assert unseen.labels[0] in ("yes", "no")
