"""The search one candidate training job runs for its algorithm, within its share of the budget.

Hyperparameters are tuned with Optuna's TPE sampler. The first trial is always the algorithm's
defaults (with the hyperparameters the user pinned), so a search the budget cuts short still
ends with a sensible model. Each trial is scored on validation, never on test: by k-fold
cross-validation over the train and validation rows together when the table is small (fewer
rows than presets.json's ``cross_validation_below_rows``), else on the validation split. The
best trial is then refit on train + validation, a booster for the rounds validation chose (grown
with the extra rows), and its out-of-fold predictions are kept so the select job compares every
candidate, and weighs an ensemble, on the same rows.

Boosters early-stop on each fold's held-out part, as AutoGluon's bagged boosters do; that makes
their validation score a little optimistic next to learners that do not stop early.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from sklearn import metrics as sk
from sklearn.model_selection import KFold, StratifiedKFold

from .errors import JobFailed
from .schema import DatasetSchema
from .tabular import LEARNERS, Fit, Report, TabularModel

# Boosting rounds grow with the refit's extra rows by at most this factor.
MAX_ROUND_GROWTH = 1.25


@cache
def presets() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("presets.json").read_text("utf-8")
    return json.loads(text)


def preset_settings(name: str | None) -> dict[str, Any]:
    table = presets()
    return table["presets"][name or table["default"]]


DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}


def _labels(raw: np.ndarray) -> np.ndarray:
    return raw.argmax(axis=1)


def score(metric: str, task: str, actual: np.ndarray, raw: np.ndarray) -> float:
    """The metric of raw predictions (probabilities, or values for regression)."""
    if task == "regression":
        return {
            "r2": lambda: sk.r2_score(actual, raw),
            "rmse": lambda: sk.root_mean_squared_error(actual, raw),
            "mae": lambda: sk.mean_absolute_error(actual, raw),
        }[metric]()
    labels = list(range(raw.shape[1]))
    average = "binary" if task == "binary" else "macro"
    clipped = np.clip(raw, 1e-15, 1)
    found = {
        "accuracy": lambda: sk.accuracy_score(actual, _labels(raw)),
        "precision": lambda: sk.precision_score(
            actual, _labels(raw), average=average, zero_division=0
        ),
        "recall": lambda: sk.recall_score(actual, _labels(raw), average=average, zero_division=0),
        "f1": lambda: sk.f1_score(actual, _labels(raw), average=average, zero_division=0),
        "log_loss": lambda: sk.log_loss(
            actual, clipped / clipped.sum(axis=1, keepdims=True), labels=labels
        ),
        "roc_auc": lambda: (
            sk.roc_auc_score(actual, raw[:, 1])
            if task == "binary"
            else sk.roc_auc_score(actual, raw, multi_class="ovr", labels=labels)
        ),
    }
    return float(found[metric]())


def better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


@dataclass
class Settings:
    metric: str
    trials: int
    folds: int
    cross_validation_below_rows: int
    budget_seconds: float
    seed: int = 42


@dataclass
class Trial:
    hyperparameters: dict[str, Any]
    score: float
    fold_scores: list[float]
    seconds: float
    rounds: int | None
    oof: np.ndarray
    curve: list[dict[str, float]] | None = None
    curve_metric: str | None = None


@dataclass
class SearchResult:
    model: TabularModel
    candidate: dict[str, Any]  # candidate.json: what the leaderboard shows
    history: dict[str, Any]  # history.json: the chosen trial's curve, the refit
    oof: np.ndarray
    actual: np.ndarray


def folds_for(
    schema: DatasetSchema, y: np.ndarray, settings: Settings, train_rows: int
) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """How trials are scored: k folds over every row given, or the validation rows alone."""
    rows = len(y)
    if rows >= settings.cross_validation_below_rows:
        everything = np.arange(rows)
        return "validation split", [(everything[:train_rows], everything[train_rows:])]
    folds = settings.folds
    if schema.task == "regression":
        splitter: Any = KFold(folds, shuffle=True, random_state=settings.seed)
    else:
        smallest = int(np.bincount(y[y >= 0]).min())
        folds = max(2, min(folds, smallest))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=settings.seed)
    return f"{folds}-fold cross-validation", list(splitter.split(np.zeros(rows), y))


def _evaluate(
    schema: DatasetSchema,
    algorithm: str,
    hp: dict[str, Any],
    x: pd.DataFrame,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    settings: Settings,
) -> Trial:
    learner = LEARNERS[algorithm]
    started = time.monotonic()
    classes = len(schema.classes or [])
    oof = np.zeros((len(y), classes)) if schema.task != "regression" else np.zeros(len(y))
    scored = np.zeros(len(y), dtype=bool)
    fold_scores, rounds = [], []
    fitted: Fit | None = None
    for train, held in folds:
        fitted = learner.fit(schema, hp, (x.iloc[train], y[train]), (x.iloc[held], y[held]))
        raw = learner.predict(
            fitted.estimator,
            None if fitted.rounds is None else fitted.rounds - 1,
            x.iloc[held],
            schema.task,
        )
        oof[held] = raw
        scored[held] = True
        fold_scores.append(score(settings.metric, schema.task, y[held], raw))
        if fitted.rounds is not None:
            rounds.append(fitted.rounds)
    assert fitted is not None
    overall = score(settings.metric, schema.task, y[scored], oof[scored])
    return Trial(
        hyperparameters=hp,
        score=overall,
        fold_scores=fold_scores,
        seconds=time.monotonic() - started,
        rounds=round(float(np.mean(rounds))) if rounds else None,
        oof=oof[scored] if not scored.all() else oof,
        curve=fitted.curve,
        curve_metric=fitted.curve_metric,
    )


def search(
    schema: DatasetSchema,
    algorithm: str,
    pinned: dict[str, Any],
    x: pd.DataFrame,
    y: np.ndarray,
    train_rows: int,
    settings: Settings,
    gpu: bool = False,
    report: Report | None = None,
) -> SearchResult:
    """Tunes ``algorithm`` on rows ``x``/``y`` (the first ``train_rows`` the train split, the
    rest validation), then refits the best trial on them all."""
    learner = LEARNERS[algorithm]
    started = time.monotonic()
    deadline = started + settings.budget_seconds
    method, folds = folds_for(schema, y, settings, train_rows)
    scored_rows = np.concatenate([held for _, held in folds])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize" if settings.metric in LOWER_IS_BETTER else "maximize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=5),
    )
    trials: list[Trial] = []
    failures: list[str] = []
    stopped_by = "trials"
    limit = settings.trials
    for number in range(limit):
        if trials:
            per_trial = float(np.mean([t.seconds for t in trials]))
            refit = per_trial / len(folds) * MAX_ROUND_GROWTH
            if time.monotonic() + per_trial + refit > deadline:
                stopped_by = "budget"
                break
        # The first trial is the defaults, outside the sampler; the sampler proposes the rest.
        proposal = study.ask() if number > 0 else None
        sampled = learner.space(proposal) if proposal is not None else {}
        hp = {**learner.defaults, **sampled, **pinned}
        try:
            result = _evaluate(schema, algorithm, hp, x, y, folds, settings)
        except (
            ValueError,
            ArithmeticError,
            RuntimeError,
            lgb.basic.LightGBMError,
            xgb.core.XGBoostError,
        ) as error:
            if proposal is None:
                raise JobFailed(
                    f"{algorithm} failed with its default hyperparameters: {error}"
                ) from error
            study.tell(proposal, state=optuna.trial.TrialState.FAIL)
            failures.append(f"trial {number + 1}: {type(error).__name__}: {error}")
            continue
        if proposal is not None:
            study.tell(proposal, result.score)
        trials.append(result)
        if report:
            report(
                number + 1,
                limit,
                f"{algorithm} trial {number + 1}: {settings.metric} {result.score:.5g}",
            )
    best = trials[0]
    for candidate in trials[1:]:
        if better(settings.metric, candidate.score, best.score):
            best = candidate
    refit_hp = dict(best.hyperparameters)
    if best.rounds is not None:
        growth = min(MAX_ROUND_GROWTH, len(y) / np.mean([len(train) for train, _ in folds]))
        grown = max(1, round(best.rounds * growth))
        # a pinned num_round stays the most rounds the model gets
        refit_hp["num_round"] = min(grown, pinned.get("num_round", grown))
    refit_started = time.monotonic()
    fitted = learner.fit(schema, refit_hp, (x, y), None, gpu=gpu)
    columns = list(x.columns)
    importance = learner.importance(fitted, columns, rows=(x, y), seed=refit_hp.get("seed", 42))
    model = TabularModel(schema, algorithm, fitted.estimator, None, importance)
    seconds = time.monotonic() - started
    candidate = {
        "algorithm": algorithm,
        "metric": settings.metric,
        "direction": "lower" if settings.metric in LOWER_IS_BETTER else "higher",
        "validation": {
            "method": method,
            "rows": len(scored_rows),
            "score": best.score,
            "std": float(np.std(best.fold_scores)) if len(best.fold_scores) > 1 else None,
            "folds": best.fold_scores,
        },
        "hyperparameters": {k: v for k, v in refit_hp.items()},
        "pinned": sorted(pinned),
        "trials": {
            "run": len(trials),
            "limit": limit,
            "failed": failures,
            "stopped_by": stopped_by,
            "budget_seconds": settings.budget_seconds,
            "scores": [t.score for t in trials],
        },
        "refit": {
            "rows": len(y),
            "rounds": refit_hp.get("num_round") if best.rounds else None,
            "seconds": time.monotonic() - refit_started,
        },
        "seconds": seconds,
    }
    history: dict[str, Any] = {
        "algorithm": algorithm,
        "metric": best.curve_metric or settings.metric,
        "validation": best.score,
        "parameters": refit_hp,
        "search": candidate,
    }
    if best.curve and best.rounds is not None:
        history["rounds"] = [point for point in best.curve if "validation" in point]
        history["best_round"] = best.rounds
    actual = y[scored_rows] if len(folds) == 1 else y
    return SearchResult(model, candidate, history, best.oof, actual)
