"""The built-in evaluation scores a user's own model through their inference script.

Each test runs the real preprocess, trains the way a user's train.py would from the `train`
channel (ml/DATA-CONTRACT.md), packs model.tar.gz and sourcedir.tar.gz as SageMaker would, and
runs the evaluate job with --user-code / --user-inference at the paths the pipeline stages.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import JobResult, OptMl, mixed_frame
from modeldrop_ml import evaluate
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# The user's inference script: rows named by dataset.json, which their train.py saved.
INFERENCE = """
import io
import json
import os

import joblib
import pandas as pd


def model_fn(model_dir):
    with open(os.path.join(model_dir, "dataset.json")) as file:
        dataset = json.load(file)
    return joblib.load(os.path.join(model_dir, "model.joblib")), dataset


def input_fn(body, content_type):
    assert content_type == "text/csv"
    return pd.read_csv(io.StringIO(body), header=None)


def predict_fn(rows, model):
    pipeline, dataset = model
    rows.columns = dataset["input_columns"]
    return {predict}
"""

PROBABILITIES = "pipeline.predict_proba(rows)"


@pytest.fixture(autouse=True)
def _forget_user_modules() -> Iterator[None]:
    """Each test's inference.py is imported afresh."""
    before = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - before:
        if not name.startswith(("modeldrop_ml", "numpy", "scipy", "sklearn", "joblib", "pandas")):
            del sys.modules[name]
    sys.path[:] = path


def _prepared(opt_ml: OptMl, frame: pd.DataFrame) -> dict[str, Any]:
    opt_ml.drop("data.csv", frame)
    result = opt_ml.preprocess()
    assert result.code == 0, result.failure
    return json.loads((opt_ml.processed / "train" / "dataset.json").read_text())


def _features(dataset: dict[str, Any], kind: str) -> list[str]:
    return [feature["name"] for feature in dataset["features"] if feature["kind"] == kind]


def _users_classifier(opt_ml: OptMl) -> Any:
    """What a user's train.py fits on the train channel: its numbers and categories."""
    channel = opt_ml.processed / "train"
    dataset = json.loads((channel / "dataset.json").read_text())
    frame = pd.read_parquet(channel / "data.parquet")
    numeric, categorical = _features(dataset, "numeric"), _features(dataset, "categorical")
    encode = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    inputs = frame[numeric + categorical].astype({name: object for name in categorical})
    return make_pipeline(encode, LogisticRegression(max_iter=1_000)).fit(
        inputs, frame[dataset["target"]]
    )


def _stage(opt_ml: OptMl, model: Any, script: str) -> None:
    """model.tar.gz and sourcedir.tar.gz where the pipeline puts them for the evaluate job."""
    saved = opt_ml.root / "users-model"
    saved.mkdir()
    joblib.dump(model, saved / "model.joblib")
    shutil.copy(opt_ml.processed / "train" / "dataset.json", saved / "dataset.json")
    inputs = opt_ml.root / "processing" / "input"
    (inputs / "model").mkdir(parents=True)
    _tar(inputs / "model" / "model.tar.gz", saved)
    code = opt_ml.root / "users-code"
    code.mkdir()
    (code / "inference.py").write_text(textwrap.dedent(script))
    (code / "train.py").write_text("# the user's training script\n")
    (inputs / "usercode").mkdir()
    _tar(inputs / "usercode" / "sourcedir.tar.gz", code)
    for split in ("test", "transform"):
        (inputs / split).symlink_to(opt_ml.processed / split)


def _tar(archive: Path, folder: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(folder.iterdir()):
            tar.add(item, arcname=item.name)


def _evaluate_users_model(opt_ml: OptMl) -> JobResult:
    argv = ["--user-code", "--user-inference", "inference.py"]
    return opt_ml._run(evaluate.run, argv, opt_ml.root / "output" / "message")


def _test_split(opt_ml: OptMl) -> pd.DataFrame:
    return pd.read_parquet(opt_ml.processed / "test" / "data.parquet")


def test_class_probabilities_from_predict_fn_score_like_sklearn_on_the_test_split(
    opt_ml: OptMl,
) -> None:
    dataset = _prepared(opt_ml, mixed_frame(400))
    model = _users_classifier(opt_ml)
    _stage(opt_ml, model, INFERENCE.format(predict=PROBABILITIES))

    result = _evaluate_users_model(opt_ml)

    assert result.code == 0, result.failure
    test = _test_split(opt_ml)
    probabilities = model.predict_proba(test.drop(columns=dataset["target"]))
    actual = test[dataset["target"]].to_numpy()
    predicted = model.classes_[probabilities.argmax(axis=1)]
    evaluation = opt_ml.evaluation_json()
    found = evaluation["binary_classification_metrics"]
    assert found["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(actual, predicted))
    assert found["f1"]["value"] == pytest.approx(
        metrics.f1_score(actual, predicted, pos_label="stayed")
    )
    assert found["roc_auc"]["value"] == pytest.approx(
        metrics.roc_auc_score(actual == "stayed", probabilities[:, 1]), abs=1e-6
    )
    assert found["log_loss"]["value"] == pytest.approx(
        metrics.log_loss(actual, probabilities, labels=model.classes_), rel=1e-5
    )
    assert found["confusion_matrix"]["stayed"]["stayed"] == int(
        ((actual == "stayed") & (predicted == "stayed")).sum()
    )
    assert evaluation["modeldrop"] == {
        **evaluation["modeldrop"],
        "task": "binary",
        "target": "churn",
        "classes": ["churned", "stayed"],
        "positive_class": "stayed",
        "test_rows": len(test),
        "algorithm": "user",
        "predictions": "probabilities",
        "model_info": {"inference_script": "inference.py"},
    }
    assert "note" not in evaluation["modeldrop"]
    assert {"roc.png", "confusion_matrix.png"} <= set(evaluation["modeldrop"]["plots"])


def test_labels_from_predict_fn_score_without_roc_auc_or_log_loss_and_say_so(
    opt_ml: OptMl,
) -> None:
    dataset = _prepared(opt_ml, mixed_frame(300))
    model = _users_classifier(opt_ml)
    _stage(opt_ml, model, INFERENCE.format(predict="pipeline.predict(rows)"))

    result = _evaluate_users_model(opt_ml)

    assert result.code == 0, result.failure
    test = _test_split(opt_ml)
    predicted = model.predict(test.drop(columns=dataset["target"]))
    evaluation = opt_ml.evaluation_json()
    found = evaluation["binary_classification_metrics"]
    assert found["accuracy"]["value"] == pytest.approx(
        metrics.accuracy_score(test[dataset["target"]], predicted)
    )
    assert not {"roc_auc", "log_loss", "receiver_operating_characteristic_curve"} & set(found)
    assert evaluation["modeldrop"]["predictions"] == "labels"
    assert "roc_auc" in evaluation["modeldrop"]["note"]
    assert evaluation["modeldrop"]["plots"] == ["confusion_matrix.png"]


def test_a_regression_model_served_by_the_scikit_learn_defaults_scores_its_values(
    opt_ml: OptMl,
) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(200, 3)).round(4), columns=["a", "b", "c"])
    frame["y"] = 3 * frame["a"] - 2 * frame["b"] + rng.normal(0, 0.3, 200)
    _prepared(opt_ml, frame)
    train = pd.read_parquet(opt_ml.processed / "train" / "data.parquet")
    model = LinearRegression().fit(train[["a", "b", "c"]].to_numpy(), train["y"])
    only_model_fn = """
    import os
    import joblib

    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))
    """
    _stage(opt_ml, model, only_model_fn)

    result = _evaluate_users_model(opt_ml)

    assert result.code == 0, result.failure
    test = _test_split(opt_ml)
    predicted = model.predict(test[["a", "b", "c"]].to_numpy())
    evaluation = opt_ml.evaluation_json()
    found = evaluation["regression_metrics"]
    assert found["rmse"]["value"] == pytest.approx(
        metrics.root_mean_squared_error(test["y"], predicted), rel=1e-5
    )
    assert found["mae"]["value"] == pytest.approx(
        metrics.mean_absolute_error(test["y"], predicted), rel=1e-5
    )
    assert found["r2"]["value"] == pytest.approx(metrics.r2_score(test["y"], predicted), rel=1e-5)
    assert evaluation["modeldrop"]["predictions"] == "values"
    assert evaluation["modeldrop"]["test_rows"] == len(test) == 30


def test_multiclass_probabilities_are_read_in_the_sorted_class_order(opt_ml: OptMl) -> None:
    _prepared(opt_ml, load_wine(as_frame=True).frame)
    train = pd.read_parquet(opt_ml.processed / "train" / "data.parquet")
    features = [name for name in train.columns if name != "target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
    model.fit(train[features].to_numpy(), train["target"])
    # Wine mixes whole-number and decimal columns, which the default input_fn cannot cast.
    numbers_only = """
    import io
    import os
    import joblib
    import numpy as np

    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))

    def input_fn(body, content_type):
        return np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)

    def predict_fn(rows, model):
        return model.predict_proba(rows)
    """
    _stage(opt_ml, model, numbers_only)

    result = _evaluate_users_model(opt_ml)

    assert result.code == 0, result.failure
    test = _test_split(opt_ml)
    probabilities = model.predict_proba(test[features].to_numpy())
    evaluation = opt_ml.evaluation_json()
    found = evaluation["multiclass_classification_metrics"]
    assert evaluation["modeldrop"]["classes"] == ["0", "1", "2"]
    assert found["log_loss"]["value"] == pytest.approx(
        metrics.log_loss(test["target"], probabilities, labels=[0, 1, 2]), rel=1e-5
    )
    assert found["roc_auc"]["value"] == pytest.approx(
        metrics.roc_auc_score(test["target"], probabilities, multi_class="ovr"), abs=1e-6
    )


@pytest.mark.parametrize(
    ("predict", "came_back"),
    [
        ("np.zeros((len(rows), 3))", "returned ndarray of shape (60, 3) for 60 test rows"),
        ("{'churn': list(pipeline.predict(rows))}", "returned dict for 60 test rows"),
        (f"{PROBABILITIES}[:5]", "returned ndarray of shape (5, 2) for 60 test rows"),
        ("[0] * len(rows)", "labels that are not classes of churn ('0')"),
        (f"{PROBABILITIES} * 2", "2 columns that are not class probabilities"),
    ],
)
def test_a_prediction_the_evaluation_cannot_read_fails_naming_what_came_back(
    opt_ml: OptMl, predict: str, came_back: str
) -> None:
    _prepared(opt_ml, mixed_frame(400))
    script = INFERENCE.format(predict=predict).replace("import io", "import io\nimport numpy as np")
    _stage(opt_ml, _users_classifier(opt_ml), script)

    result = _evaluate_users_model(opt_ml)

    assert result.code == 1
    assert result.failure is not None
    assert result.failure.startswith("inference.py's predict_fn ")
    assert came_back in result.failure
    assert "one probability column per class in that order (a 60 x 2 array)" in result.failure
    assert not (opt_ml.evaluation / "evaluation.json").exists()


def test_an_exception_in_the_users_model_fn_is_the_failure_message(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(200))
    script = INFERENCE.format(predict=PROBABILITIES).replace(
        '    with open(os.path.join(model_dir, "dataset.json"))',
        '    raise ValueError("no weights for this model")\n'
        '    with open(os.path.join(model_dir, "dataset.json"))',
    )
    _stage(opt_ml, _users_classifier(opt_ml), script)

    result = _evaluate_users_model(opt_ml)

    assert result.code == 1
    assert (result.failure or "").startswith(
        "loading the model with inference.py: the model's model_fn failed:"
    )
    assert "ValueError: no weights for this model" in (result.failure or "")
    assert "modeldrop bug" not in (result.failure or "")


def test_user_code_without_its_inference_script_is_refused_as_an_argument_error(
    opt_ml: OptMl,
) -> None:
    result = opt_ml._run(evaluate.run, ["--user-code"], opt_ml.root / "output" / "message")

    assert result.code == 1
    assert "--user-code and --user-inference go together" in (result.failure or "")


def test_a_pipeline_that_does_not_stage_the_transform_rows_is_a_modeldrop_bug(
    opt_ml: OptMl,
) -> None:
    _prepared(opt_ml, mixed_frame(200))
    _stage(opt_ml, _users_classifier(opt_ml), INFERENCE.format(predict=PROBABILITIES))
    (opt_ml.root / "processing" / "input" / "transform").unlink()

    result = _evaluate_users_model(opt_ml)

    assert result.code == 2
    assert "transform/test.csv was not given to evaluate" in (result.failure or "")
