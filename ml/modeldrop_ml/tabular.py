"""The tabular inference pipeline that training saves as one artifact, and how it is fitted.

A ``TabularModel`` holds everything needed to go from raw rows to predictions: the dataset
schema (input columns, feature kinds, category levels, class labels) and the fitted estimator
(an XGBoost booster, or a scikit-learn pipeline with its own imputation and encoding).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .schema import DatasetSchema, label_text, model_frame

XGBOOST_DEFAULTS = {
    "num_round": 500,
    "early_stopping_rounds": 20,
    "max_depth": 6,
    "learning_rate": 0.1,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
    "seed": 42,
}
FOREST_DEFAULTS = {"n_estimators": 300, "max_depth": None, "min_samples_leaf": 1, "seed": 42}
LINEAR_DEFAULTS = {"regularization": 1.0, "seed": 42}
# permutation importance for scikit-learn models is measured on at most this many rows
IMPORTANCE_ROWS = 2_000


def encode_labels(values: pd.Series, classes: list[str]) -> np.ndarray:
    """Raw target values → class indices in ``classes`` order (-1 for an unknown label)."""
    index = {label: position for position, label in enumerate(classes)}
    lookup = {value: index.get(label_text(value), -1) for value in values.dropna().unique()}
    return values.map(lookup).fillna(-1).to_numpy(dtype=np.int64)


@dataclass
class Predictions:
    labels: list[str] | None  # predicted class per row (classification)
    probabilities: np.ndarray | None  # (rows, classes) (classification)
    values: np.ndarray | None  # predicted number per row (regression)


@dataclass
class TabularModel:
    schema: DatasetSchema
    algorithm: str
    estimator: Any
    best_iteration: int | None = None
    feature_importance: dict[str, float] = field(default_factory=dict)

    kind = "tabular"

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return model_frame(frame, self.schema.features)

    def predict(self, frame: pd.DataFrame) -> Predictions:
        matrix = self.features(frame)
        task = self.schema.task
        if self.algorithm == "xgboost":
            iterations = (0, self.best_iteration + 1) if self.best_iteration is not None else (0, 0)
            data = xgb.DMatrix(_positional(matrix), enable_categorical=True)
            raw = self.estimator.predict(data, iteration_range=iterations)
            if task == "regression":
                return Predictions(None, None, np.asarray(raw, dtype=np.float64))
            probabilities = np.column_stack([1 - raw, raw]) if task == "binary" else np.asarray(raw)
        elif task == "regression":
            return Predictions(
                None, None, np.asarray(self.estimator.predict(matrix), dtype=np.float64)
            )
        else:
            probabilities = self.estimator.predict_proba(matrix)
        classes = self.schema.classes or []
        labels = [classes[i] for i in np.argmax(probabilities, axis=1)]
        return Predictions(labels, probabilities, None)


# --- fitting ---------------------------------------------------------------------------------


def _xgboost_objective(task: str, classes: int) -> dict[str, Any]:
    if task == "binary":
        return {"objective": "binary:logistic", "eval_metric": "logloss"}
    if task == "multiclass":
        return {"objective": "multi:softprob", "eval_metric": "mlogloss", "num_class": classes}
    return {"objective": "reg:squarederror", "eval_metric": "rmse"}


class _RoundReporter(xgb.callback.TrainingCallback):
    def __init__(self, total: int, report: Callable[[int, int, str], None]) -> None:
        super().__init__()
        self.total = total
        self.report = report
        self.every = max(1, total // 50)

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        if (epoch + 1) % self.every == 0:
            validation = evals_log.get("validation", {})
            metric, scores = next(iter(validation.items()), ("", [None]))
            self.report(
                epoch + 1, self.total, f"round {epoch + 1} validation {metric} {scores[-1]:.5g}"
            )
        return False


def fit_xgboost(
    schema: DatasetSchema,
    train_x: pd.DataFrame,
    train_y: np.ndarray,
    valid_x: pd.DataFrame,
    valid_y: np.ndarray,
    hyperparameters: dict[str, Any],
    use_gpu: bool,
    report: Callable[[int, int, str], None],
) -> tuple[TabularModel, dict[str, Any]]:
    hp = {**XGBOOST_DEFAULTS, **hyperparameters}
    params = {
        **_xgboost_objective(schema.task, len(schema.classes or [])),
        "tree_method": "hist",
        "device": "cuda" if use_gpu else "cpu",
        "max_depth": hp["max_depth"],
        "eta": hp["learning_rate"],
        "subsample": hp["subsample"],
        "colsample_bytree": hp["colsample_bytree"],
        "min_child_weight": hp["min_child_weight"],
        "lambda": hp["reg_lambda"],
        "alpha": hp["reg_alpha"],
        "seed": hp["seed"],
        "nthread": os.cpu_count() or 1,
    }
    columns = list(train_x.columns)
    # Quantile matrices hold one byte per cell (bins), not the float copy a DMatrix keeps.
    dtrain = xgb.QuantileDMatrix(_positional(train_x), label=train_y, enable_categorical=True)
    dvalid = xgb.QuantileDMatrix(
        _positional(valid_x), label=valid_y, ref=dtrain, enable_categorical=True
    )
    evals_result: dict[str, Any] = {}
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=hp["num_round"],
        evals=[(dtrain, "train"), (dvalid, "validation")],
        early_stopping_rounds=hp["early_stopping_rounds"],
        evals_result=evals_result,
        verbose_eval=False,
        callbacks=[_RoundReporter(hp["num_round"], report)],
    )
    best = int(booster.best_iteration)
    metric = params["eval_metric"]
    history = {
        "algorithm": "xgboost",
        "metric": metric,
        "rounds": [
            {"round": i + 1, "train": train, "validation": valid}
            for i, (train, valid) in enumerate(
                zip(evals_result["train"][metric], evals_result["validation"][metric], strict=True)
            )
        ],
        "best_round": best + 1,
        "best_validation": evals_result["validation"][metric][best],
        "parameters": {key: value for key, value in params.items() if key != "nthread"},
    }
    gains = booster.get_score(importance_type="total_gain")
    importance: dict[str, float] = {}
    for name, gain in gains.items():
        column = columns[int(name[1:])].split("@")[0]
        importance[column] = importance.get(column, 0.0) + float(gain)
    model = TabularModel(schema, "xgboost", booster, best, _normalised(importance))
    return model, history


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with columns f0, f1, ...: XGBoost refuses feature names holding [, ] or <,
    and a dropped file's header may hold anything."""
    return frame.set_axis([f"f{i}" for i in range(frame.shape[1])], axis=1)


def _sklearn_pipeline(
    algorithm: str, task: str, frame: pd.DataFrame, hp: dict[str, Any]
) -> Pipeline:
    numeric = [
        name for name in frame.columns if not isinstance(frame[name].dtype, pd.CategoricalDtype)
    ]
    categorical = [
        name for name in frame.columns if isinstance(frame[name].dtype, pd.CategoricalDtype)
    ]
    levels = [list(frame[name].cat.categories) for name in categorical]
    if algorithm == "linear":
        numeric_steps = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )
        categorical_steps: Any = OneHotEncoder(categories=levels, handle_unknown="ignore")
        regularization = hp["regularization"]
        model: Any = (
            Ridge(alpha=regularization)
            if task == "regression"
            else LogisticRegression(C=1 / regularization, max_iter=2_000, random_state=hp["seed"])
        )
    else:
        numeric_steps = SimpleImputer(strategy="median", keep_empty_features=True)
        categorical_steps = OrdinalEncoder(
            categories=levels,
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-1,
        )
        forest = RandomForestRegressor if task == "regression" else RandomForestClassifier
        model = forest(
            n_estimators=hp["n_estimators"],
            max_depth=hp["max_depth"],
            min_samples_leaf=hp["min_samples_leaf"],
            n_jobs=-1,
            random_state=hp["seed"],
        )
    columns = ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", categorical_steps, categorical)],
        sparse_threshold=0,
    )
    return Pipeline([("columns", columns), ("model", model)])


def fit_sklearn(
    schema: DatasetSchema,
    algorithm: str,
    train_x: pd.DataFrame,
    train_y: np.ndarray,
    valid_x: pd.DataFrame,
    valid_y: np.ndarray,
    hyperparameters: dict[str, Any],
) -> tuple[TabularModel, dict[str, Any]]:
    defaults = LINEAR_DEFAULTS if algorithm == "linear" else FOREST_DEFAULTS
    hp = {**defaults, **hyperparameters}
    pipeline = _sklearn_pipeline(algorithm, schema.task, train_x, hp)
    pipeline.fit(train_x, train_y)
    score_name = "r2" if schema.task == "regression" else "accuracy"
    validation_score = float(pipeline.score(valid_x, valid_y))
    sample = min(len(valid_x), IMPORTANCE_ROWS)
    permuted = permutation_importance(
        pipeline,
        valid_x.iloc[:sample],
        valid_y[:sample],
        n_repeats=3,
        random_state=hp["seed"],
        n_jobs=1,
    )
    importance: dict[str, float] = {}
    for name, value in zip(valid_x.columns, permuted.importances_mean, strict=True):
        column = name.split("@")[0]
        importance[column] = importance.get(column, 0.0) + max(float(value), 0.0)
    history = {
        "algorithm": algorithm,
        "metric": score_name,
        "validation": validation_score,
        "parameters": {key: value for key, value in hp.items()},
    }
    return TabularModel(schema, algorithm, pipeline, None, _normalised(importance)), history


def _normalised(importance: dict[str, float]) -> dict[str, float]:
    total = sum(importance.values())
    if total <= 0:
        return {name: 0.0 for name in importance}
    ranked = sorted(importance.items(), key=lambda item: -item[1])
    return {name: value / total for name, value in ranked}
