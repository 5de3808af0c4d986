"""The tabular learners modeldrop searches over, and the inference pipeline training saves.

A ``TabularModel`` holds everything needed to go from raw rows to predictions: the dataset
schema (input columns, feature kinds, category levels, class labels) and the fitted estimator of
one learner (an XGBoost or LightGBM booster, or a scikit-learn pipeline with its own imputation
and encoding). An ``EnsembleModel`` averages several of them with weights. Either is saved whole
as model.joblib.

Each learner in ``LEARNERS`` knows its default hyperparameters, its search space, how to fit on
the model features (early-stopping on a validation frame when it is given one) and how to turn
its output into the raw predictions every learner shares: a (rows, classes) probability matrix
for classification, one number per row for regression.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
    TargetEncoder,
)

from .schema import DatasetSchema, label_text, model_frame

# Categorical features with more levels than this are target-encoded (out of fold, as
# scikit-learn's TargetEncoder fits) for the scikit-learn learners; the boosters split on them
# natively whatever their number of levels.
ONE_HOT_MAX_LEVELS = 20
# permutation importance for scikit-learn models is measured on at most this many rows
IMPORTANCE_ROWS = 2_000
Report = Callable[[int, int, str], None]


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


def _as_predictions(schema: DatasetSchema, raw: np.ndarray) -> Predictions:
    if schema.task == "regression":
        return Predictions(None, None, np.asarray(raw, dtype=np.float64))
    classes = schema.classes or []
    labels = [classes[i] for i in np.argmax(raw, axis=1)]
    return Predictions(labels, raw, None)


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

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        learner = LEARNERS[self.algorithm]
        return learner.predict(
            self.estimator, self.best_iteration, self.features(frame), self.schema.task
        )

    def predict(self, frame: pd.DataFrame) -> Predictions:
        return _as_predictions(self.schema, self.raw(frame))


@dataclass
class EnsembleModel:
    """A weighted average of candidates' predictions (weights sum to 1), chosen on validation."""

    schema: DatasetSchema
    members: list[tuple[float, TabularModel]]
    feature_importance: dict[str, float] = field(default_factory=dict)

    kind = "tabular"
    algorithm = "ensemble"

    def predict(self, frame: pd.DataFrame) -> Predictions:
        total = sum(weight * member.raw(frame) for weight, member in self.members)
        return _as_predictions(self.schema, np.asarray(total))


def ensemble_importance(members: list[tuple[float, TabularModel]]) -> dict[str, float]:
    blended: dict[str, float] = {}
    for weight, member in members:
        for name, value in member.feature_importance.items():
            blended[name] = blended.get(name, 0.0) + weight * value
    return normalised(blended)


# --- learners --------------------------------------------------------------------------------


@dataclass
class Fit:
    estimator: Any
    rounds: int | None = None  # boosting rounds kept (early stopping's best), None otherwise
    curve: list[dict[str, float]] | None = None  # per round: train and validation loss
    curve_metric: str | None = None


# Tables smaller than this many cells are fitted on one thread: the fit is short, and OpenMP's
# threads slow down many times over when other processes (other candidates) hold the cores.
THREADED_CELLS = 2_000_000


def threads(frame: pd.DataFrame) -> int:
    if frame.shape[0] * max(frame.shape[1], 1) < THREADED_CELLS:
        return 1
    return os.cpu_count() or 1


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with columns f0, f1, ...: the boosters refuse feature names holding [, ], < or
    JSON's special characters, and a dropped file's header may hold anything."""
    return frame.set_axis([f"f{i}" for i in range(frame.shape[1])], axis=1)


def _booster_output(raw: np.ndarray, task: str) -> np.ndarray:
    """A booster's predictions as every learner gives them: binary as two columns."""
    if task == "binary":
        return np.column_stack([1 - raw, raw])
    return np.asarray(raw, dtype=np.float64)


def _curve(result: dict[str, Any], metric: str) -> list[dict[str, float]]:
    """Per boosting round, the train loss and, when there was one, the validation loss."""
    validation = result.get("validation", {}).get(metric)
    return [
        {"round": i + 1, "train": value, **({"validation": validation[i]} if validation else {})}
        for i, value in enumerate(result["train"][metric])
    ]


def _boosting_space(trial: Any) -> dict[str, Any]:
    """The ranges XGBoost and LightGBM search alike: step size, sampling and penalties."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-3, 1, log=True),
    }


class XGBoost:
    name = "xgboost"
    defaults: ClassVar[dict[str, Any]] = {
        "num_round": 1000,
        "early_stopping_rounds": 50,
        "max_depth": 6,
        "learning_rate": 0.05,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "min_child_weight": 1.0,
        "reg_lambda": 1.0,
        "reg_alpha": 0.0,
        "seed": 42,
    }

    def space(self, trial: Any) -> dict[str, Any]:
        return {
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20, log=True),
            **_boosting_space(trial),
        }

    def params(
        self, task: str, classes: int, hp: dict[str, Any], gpu: bool, threads: int
    ) -> dict[str, Any]:
        objective = {
            "binary": {"objective": "binary:logistic", "eval_metric": "logloss"},
            "multiclass": {
                "objective": "multi:softprob",
                "eval_metric": "mlogloss",
                "num_class": classes,
            },
            "regression": {"objective": "reg:squarederror", "eval_metric": "rmse"},
        }[task]
        return {
            **objective,
            "tree_method": "hist",
            "device": "cuda" if gpu else "cpu",
            "max_depth": hp["max_depth"],
            "eta": hp["learning_rate"],
            "subsample": hp["subsample"],
            "colsample_bytree": hp["colsample_bytree"],
            "min_child_weight": hp["min_child_weight"],
            "lambda": hp["reg_lambda"],
            "alpha": hp["reg_alpha"],
            "seed": hp["seed"],
            "nthread": threads,
        }

    def fit(
        self,
        schema: DatasetSchema,
        hp: dict[str, Any],
        train: tuple[pd.DataFrame, np.ndarray],
        valid: tuple[pd.DataFrame, np.ndarray] | None,
        gpu: bool = False,
        report: Report | None = None,
    ) -> Fit:
        params = self.params(schema.task, len(schema.classes or []), hp, gpu, threads(train[0]))
        # Quantile matrices hold one byte per cell (bins), not the float copy a DMatrix keeps.
        dtrain = xgb.QuantileDMatrix(_positional(train[0]), label=train[1], enable_categorical=True)
        evals = [(dtrain, "train")]
        if valid is not None:
            dvalid = xgb.QuantileDMatrix(
                _positional(valid[0]), label=valid[1], ref=dtrain, enable_categorical=True
            )
            evals.append((dvalid, "validation"))
        result: dict[str, Any] = {}
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=hp["num_round"],
            evals=evals,
            early_stopping_rounds=hp["early_stopping_rounds"] if valid is not None else None,
            evals_result=result,
            verbose_eval=False,
            callbacks=[_RoundReporter(hp["num_round"], report)] if report else None,
        )
        metric = params["eval_metric"]
        rounds = int(booster.best_iteration) + 1 if valid is not None else hp["num_round"]
        return Fit(booster, rounds, _curve(result, metric), metric)

    def predict(self, booster: Any, best: int | None, x: pd.DataFrame, task: str) -> np.ndarray:
        iterations = (0, best + 1) if best is not None else (0, 0)
        data = xgb.DMatrix(_positional(x), enable_categorical=True)
        raw = booster.predict(data, iteration_range=iterations)
        return _booster_output(raw, task)

    def importance(self, fitted: Fit, columns: list[str], **_: Any) -> dict[str, float]:
        gains = fitted.estimator.get_score(importance_type="total_gain")
        return _by_column(columns, {int(name[1:]): float(gain) for name, gain in gains.items()})


class _RoundReporter(xgb.callback.TrainingCallback):
    def __init__(self, total: int, report: Report) -> None:
        super().__init__()
        self.total = total
        self.report = report
        self.every = max(1, total // 50)

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        if (epoch + 1) % self.every == 0:
            self.report(epoch + 1, self.total, f"round {epoch + 1}")
        return False


class LightGBM:
    name = "lightgbm"
    defaults: ClassVar[dict[str, Any]] = {
        "num_round": 1000,
        "early_stopping_rounds": 50,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "max_depth": 0,  # 0: no limit (LightGBM's -1)
        "min_samples_leaf": 10,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "reg_alpha": 0.0,
        "seed": 42,
    }

    def space(self, trial: Any) -> dict[str, Any]:
        return {
            "num_leaves": trial.suggest_int("num_leaves", 4, 128, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 60, log=True),
            **_boosting_space(trial),
        }

    def fit(
        self,
        schema: DatasetSchema,
        hp: dict[str, Any],
        train: tuple[pd.DataFrame, np.ndarray],
        valid: tuple[pd.DataFrame, np.ndarray] | None,
        gpu: bool = False,
        report: Report | None = None,
    ) -> Fit:
        task = schema.task
        objective = {
            "binary": {"objective": "binary", "metric": "binary_logloss"},
            "multiclass": {
                "objective": "multiclass",
                "metric": "multi_logloss",
                "num_class": len(schema.classes or []),
            },
            "regression": {"objective": "regression", "metric": "rmse"},
        }[task]
        params = {
            **objective,
            "learning_rate": hp["learning_rate"],
            "num_leaves": hp["num_leaves"],
            "max_depth": hp["max_depth"] or -1,
            "min_data_in_leaf": hp["min_samples_leaf"],
            "bagging_fraction": hp["subsample"],
            "bagging_freq": 1,
            "feature_fraction": hp["colsample_bytree"],
            "lambda_l2": hp["reg_lambda"],
            "lambda_l1": hp["reg_alpha"],
            # LightGBM's categorical defaults (100 rows per level group, smoothing and L2 of 10)
            # leave a many-level column such as a zip code with a few rows a level unused
            "min_data_per_group": max(5, hp["min_samples_leaf"]),
            "cat_smooth": 1,
            "cat_l2": 1,
            "max_cat_threshold": 64,
            "seed": hp["seed"],
            "num_threads": threads(train[0]),
            "verbose": -1,
        }
        dtrain = lgb.Dataset(_positional(train[0]), label=train[1], free_raw_data=False)
        sets, names = [dtrain], ["train"]
        if valid is not None:
            sets.append(lgb.Dataset(_positional(valid[0]), label=valid[1], reference=dtrain))
            names.append("validation")
        result: dict[str, Any] = {}
        callbacks = [lgb.record_evaluation(result)]
        if valid is not None:
            callbacks.append(lgb.early_stopping(hp["early_stopping_rounds"], verbose=False))
        booster = lgb.train(
            params,
            dtrain,
            num_boost_round=hp["num_round"],
            valid_sets=sets,
            valid_names=names,
            callbacks=callbacks,
        )
        metric = objective["metric"]
        rounds = (
            booster.best_iteration
            if valid is not None and booster.best_iteration > 0
            else booster.current_iteration()
        )
        return Fit(booster, rounds, _curve(result, metric), metric)

    def predict(self, booster: Any, best: int | None, x: pd.DataFrame, task: str) -> np.ndarray:
        raw = booster.predict(_positional(x), num_iteration=best + 1 if best is not None else None)
        return _booster_output(raw, task)

    def importance(self, fitted: Fit, columns: list[str], **_: Any) -> dict[str, float]:
        gains = fitted.estimator.feature_importance(importance_type="gain")
        return _by_column(columns, dict(enumerate(float(gain) for gain in gains)))


def _categorical_split(frame: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(numeric, few-level categorical, many-level categorical) column names."""
    numeric, few, many = [], [], []
    for name in frame.columns:
        dtype = frame[name].dtype
        if not isinstance(dtype, pd.CategoricalDtype):
            numeric.append(name)
        elif len(dtype.categories) > ONE_HOT_MAX_LEVELS:
            many.append(name)
        else:
            few.append(name)
    return numeric, few, many


class SklearnLearner:
    """A scikit-learn estimator behind its own imputation and encoding, in one Pipeline."""

    name = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def model(self, task: str, hp: dict[str, Any]) -> Any:
        raise NotImplementedError

    def numeric_steps(self) -> Any:
        return SimpleImputer(strategy="median", keep_empty_features=True)

    def few_level_steps(self, levels: list[list[str]]) -> Any:
        return OrdinalEncoder(
            categories=levels,
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-1,
        )

    def pipeline(self, task: str, frame: pd.DataFrame, hp: dict[str, Any]) -> Pipeline:
        numeric, few, many = _categorical_split(frame)
        levels = [list(frame[name].cat.categories) for name in few]
        target_type = {"binary": "binary", "multiclass": "multiclass"}.get(task, "continuous")
        parts: list[tuple[str, Any, list[str]]] = [
            ("numeric", self.numeric_steps(), numeric),
            ("categorical", self.few_level_steps(levels), few),
        ]
        if many:
            # out of fold: each training row is encoded by the other folds' targets
            folds = (KFold if task == "regression" else StratifiedKFold)(
                5, shuffle=True, random_state=hp.get("seed", 42)
            )
            encoder = TargetEncoder(target_type=target_type, cv=folds)
            parts.append(("many_levels", _with_text_cells(encoder), many))
        columns = ColumnTransformer(parts, sparse_threshold=0)
        return Pipeline([("columns", columns), ("model", self.model(task, hp))])

    def space(self, trial: Any) -> dict[str, Any]:
        return {}

    def fit(
        self,
        schema: DatasetSchema,
        hp: dict[str, Any],
        train: tuple[pd.DataFrame, np.ndarray],
        valid: tuple[pd.DataFrame, np.ndarray] | None,
        gpu: bool = False,
        report: Report | None = None,
    ) -> Fit:
        pipeline = self.pipeline(schema.task, train[0], hp)
        pipeline.fit(train[0], train[1])
        return Fit(pipeline)

    def predict(self, pipeline: Any, best: int | None, x: pd.DataFrame, task: str) -> np.ndarray:
        if task == "regression":
            return np.asarray(pipeline.predict(x), dtype=np.float64)
        return np.asarray(pipeline.predict_proba(x), dtype=np.float64)

    def importance(
        self,
        fitted: Fit,
        columns: list[str],
        rows: tuple[pd.DataFrame, np.ndarray] | None = None,
        seed: int = 42,
    ) -> dict[str, float]:
        """Permutation importance on (a sample of) the rows it is given: the model's own training
        rows once it is refit on all of them, so a feature it overfits may rank a little high."""
        if rows is None:
            return {}
        sample = min(len(rows[0]), IMPORTANCE_ROWS)
        permuted = permutation_importance(
            fitted.estimator,
            rows[0].iloc[:sample],
            rows[1][:sample],
            n_repeats=3,
            random_state=seed,
            n_jobs=1,
        )
        return _by_column(
            columns, {i: max(float(v), 0.0) for i, v in enumerate(permuted.importances_mean)}
        )


def _category_text(cells: Any) -> pd.DataFrame:
    return pd.DataFrame(cells).astype("object").fillna("(missing)")


def _with_text_cells(encoder: Any) -> Pipeline:
    """TargetEncoder takes the category cells as text, missing ones as a category of their own."""
    as_text = FunctionTransformer(_category_text, feature_names_out="one-to-one")
    return Pipeline([("text", as_text), ("encode", encoder)])


class Forest(SklearnLearner):
    name = "random_forest"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 200,
        "max_depth": None,
        "min_samples_leaf": 1,
        "max_features": None,
        "seed": 42,
    }
    classes = (RandomForestClassifier, RandomForestRegressor)

    def space(self, trial: Any) -> dict[str, Any]:
        return {
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
            "max_features": trial.suggest_float("max_features", 0.2, 1.0),
        }

    def model(self, task: str, hp: dict[str, Any]) -> Any:
        classifier, regressor = self.classes
        forest = regressor if task == "regression" else classifier
        # None: scikit-learn's default share of features (all for regression, sqrt for classes)
        features = (
            hp["max_features"]
            if hp["max_features"] is not None
            else (1.0 if task == "regression" else "sqrt")
        )
        return forest(
            n_estimators=hp["n_estimators"],
            max_depth=hp["max_depth"],
            min_samples_leaf=hp["min_samples_leaf"],
            max_features=features,
            n_jobs=-1,
            random_state=hp["seed"],
        )


class ExtraTrees(Forest):
    name = "extra_trees"
    classes = (ExtraTreesClassifier, ExtraTreesRegressor)


class Linear(SklearnLearner):
    name = "linear"
    defaults: ClassVar[dict[str, Any]] = {"regularization": 1.0, "seed": 42}

    def space(self, trial: Any) -> dict[str, Any]:
        return {"regularization": trial.suggest_float("regularization", 1e-3, 1e3, log=True)}

    def numeric_steps(self) -> Any:
        return Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )

    def few_level_steps(self, levels: list[list[str]]) -> Any:
        return OneHotEncoder(categories=levels, handle_unknown="ignore")

    def model(self, task: str, hp: dict[str, Any]) -> Any:
        regularization = hp["regularization"]
        if task == "regression":
            return Ridge(alpha=regularization)
        return LogisticRegression(C=1 / regularization, max_iter=2_000, random_state=hp["seed"])


LEARNERS: dict[str, Any] = {
    learner.name: learner for learner in (XGBoost(), LightGBM(), Forest(), ExtraTrees(), Linear())
}


def _by_column(columns: list[str], by_position: dict[int, float]) -> dict[str, float]:
    """Importance by model column → by input feature (a datetime's three columns add up)."""
    importance: dict[str, float] = {}
    for position, value in by_position.items():
        column = columns[position].split("@")[0]
        importance[column] = importance.get(column, 0.0) + value
    return normalised(importance)


def normalised(importance: dict[str, float]) -> dict[str, float]:
    total = sum(importance.values())
    if total <= 0:
        return {name: 0.0 for name in importance}
    ranked = sorted(importance.items(), key=lambda item: -item[1])
    return {name: value / total for name, value in ranked}
