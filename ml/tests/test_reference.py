"""On data these tests did not tune to, modeldrop's default model is as good as a plain one.

For each tabular task, the pipeline (preprocess → train → evaluate, all defaults) is compared
with a plain reference fitted on the same split: scikit-learn's HistGradientBoosting with its
defaults, on the train and validation rows together (it needs no early-stopping set). The
margin: a classification metric may be at most 0.03 below the reference, an RMSE at most 5%
above it. These datasets ship inside scikit-learn's wheel, and the generated one is seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import OptMl, mixed_frame
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

CLASSIFICATION_MARGIN = 0.03
RMSE_MARGIN = 1.05


def _split(opt_ml: OptMl, name: str) -> pd.DataFrame:
    return pd.read_parquet(opt_ml.processed / name / "data.parquet")


def _reference_matrix(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    features = frame.drop(columns=[target])
    for column in features.columns:
        values = features[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            features[column] = (values - pd.Timestamp("1970-01-01")).dt.days
        elif not pd.api.types.is_numeric_dtype(values):
            features[column] = values.astype("category")
    return features


def _run_pipeline(opt_ml: OptMl, frame: pd.DataFrame) -> dict:
    opt_ml.drop("data.csv", frame)
    assert opt_ml.preprocess().code == 0
    assert opt_ml.train().code == 0
    assert opt_ml.evaluate().code == 0
    return opt_ml.evaluation_json()


def _reference_fit(opt_ml: OptMl, target: str, regression: bool):
    fit_rows = pd.concat([_split(opt_ml, "train"), _split(opt_ml, "validation")])
    test = _split(opt_ml, "test")
    train_x = _reference_matrix(fit_rows, target)
    test_x = _reference_matrix(test, target)[train_x.columns]
    model = (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(
        categorical_features="from_dtype", random_state=0
    )
    model.fit(train_x, fit_rows[target].astype(float if regression else str))
    return model, test_x, test[target]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "frame", "section", "metric"),
    [
        (
            "breast cancer",
            lambda: load_breast_cancer(as_frame=True).frame,
            "binary_classification_metrics",
            "roc_auc",
        ),
        (
            "wine",
            lambda: load_wine(as_frame=True).frame,
            "multiclass_classification_metrics",
            "accuracy",
        ),
        (
            "mixed types",
            lambda: mixed_frame(1_500, seed=11),
            "binary_classification_metrics",
            "accuracy",
        ),
    ],
)
def test_the_default_classifier_is_as_good_as_a_plain_reference(
    opt_ml: OptMl, name: str, frame, section: str, metric: str
) -> None:
    data = frame()
    target = data.columns[-1]
    ours = _run_pipeline(opt_ml, data)[section][metric]["value"]

    model, test_x, actual = _reference_fit(opt_ml, target, regression=False)
    actual = actual.astype(str).str.replace(r"\.0$", "", regex=True)
    if metric == "roc_auc":
        positive = sorted(model.classes_)[1]
        column = list(model.classes_).index(positive)
        reference = metrics.roc_auc_score(
            actual == positive, model.predict_proba(test_x)[:, column]
        )
    else:
        reference = metrics.accuracy_score(actual, model.predict(test_x))

    assert ours >= reference - CLASSIFICATION_MARGIN, (
        f"{name}: ours {ours:.4f}, reference {reference:.4f}"
    )


@pytest.mark.slow
def test_the_default_regressor_is_as_good_as_a_plain_reference(opt_ml: OptMl) -> None:
    data = load_diabetes(as_frame=True).frame
    ours = _run_pipeline(opt_ml, data)["regression_metrics"]["rmse"]["value"]

    model, test_x, actual = _reference_fit(opt_ml, "target", regression=True)
    reference = float(np.sqrt(metrics.mean_squared_error(actual, model.predict(test_x))))

    assert ours <= reference * RMSE_MARGIN, f"ours {ours:.2f}, reference {reference:.2f}"
