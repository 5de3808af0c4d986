"""The search: candidates tuned on validation within a budget, refit on train + validation, and
the select job's choice among them (an ensemble only when it is better)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import OptMl, mixed_frame
from modeldrop_ml import select
from modeldrop_ml.artifact import load_model, unpack_model
from sklearn.datasets import load_breast_cancer, load_diabetes


def _prepared(opt_ml: OptMl, frame: pd.DataFrame, options: dict | None = None) -> None:
    opt_ml.drop("data.csv", frame)
    result = opt_ml.preprocess(options)
    assert result.code == 0, result.failure


def _candidate(opt_ml: OptMl) -> dict:
    return json.loads((opt_ml.model / "candidate.json").read_text())


def _train_candidate(opt_ml: OptMl, algorithm: str, folder: Path, **settings: str) -> dict:
    """One candidate job, its model directory moved to `folder/<algorithm>` as select reads it."""
    result = opt_ml.train(hyperparameters={"algorithm": algorithm, **settings})
    assert result.code == 0, result.failure
    target = folder / algorithm
    opt_ml.model.rename(target)
    return json.loads((target / "candidate.json").read_text())


def test_a_small_table_is_compared_by_cross_validation_and_refit_on_train_plus_validation(
    opt_ml: OptMl,
) -> None:
    _prepared(opt_ml, mixed_frame(400))
    profile = opt_ml.profile()

    result = opt_ml.train(hyperparameters={"preset": "balanced", "algorithm": "lightgbm"})

    assert result.code == 0, result.failure
    candidate = _candidate(opt_ml)
    train_and_validation = profile["splits"]["train"] + profile["splits"]["validation"]
    assert candidate["validation"]["method"] == "5-fold cross-validation"
    assert candidate["validation"]["rows"] == train_and_validation
    assert len(candidate["validation"]["folds"]) == 5
    assert candidate["validation"]["std"] > 0
    assert candidate["refit"]["rows"] == train_and_validation
    assert candidate["trials"]["run"] == 12 and candidate["trials"]["stopped_by"] == "trials"
    # the refit booster gets the rounds cross-validation chose, grown with the extra rows
    assert candidate["hyperparameters"]["num_round"] == candidate["refit"]["rounds"]
    assert candidate["hyperparameters"]["num_round"] < 1000
    with np.load(opt_ml.model / "oof.npz") as oof:
        assert oof["predictions"].shape == (train_and_validation, 2)


def test_a_larger_table_is_compared_on_the_validation_split(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(7_500))

    result = opt_ml.train(hyperparameters={"algorithm": "linear"})

    assert result.code == 0, result.failure
    candidate = _candidate(opt_ml)
    assert candidate["validation"]["method"] == "validation split"
    assert candidate["validation"]["rows"] == opt_ml.profile()["splits"]["validation"]


def test_a_budget_too_small_for_the_trials_stops_the_search_and_says_so(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(300))

    result = opt_ml.train(
        hyperparameters={"preset": "best", "algorithm": "xgboost", "time_budget_seconds": "0.5"}
    )

    assert result.code == 0, result.failure
    trials = _candidate(opt_ml)["trials"]
    assert trials["stopped_by"] == "budget"
    assert 1 <= trials["run"] < trials["limit"] == 200


def test_pinned_hyperparameters_stay_fixed_while_the_rest_are_tuned(opt_ml: OptMl) -> None:
    _prepared(opt_ml, mixed_frame(300))

    result = opt_ml.train(
        hyperparameters={"preset": "balanced", "algorithm": "xgboost", "max_depth": "2"}
    )

    assert result.code == 0, result.failure
    candidate = _candidate(opt_ml)
    assert candidate["hyperparameters"]["max_depth"] == 2
    assert candidate["pinned"] == ["max_depth"]
    assert len({json.dumps(score) for score in candidate["trials"]["scores"]}) > 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"preset": "slow"}, "option preset: 'slow' is not one of fast, balanced, best"),
        (
            {"time_budget_seconds": "soon"},
            "option timeBudgetSeconds: 'soon' is not a number of seconds",
        ),
        ({"metric": "r2"}, "option metric: r2 does not apply to binary; use one of"),
    ],
)
def test_bad_search_settings_fail_with_the_option_named(
    opt_ml: OptMl, settings: dict, message: str
) -> None:
    _prepared(opt_ml, mixed_frame(100))

    result = opt_ml.train(hyperparameters=settings)

    assert result.code == 1
    assert (result.failure or "").startswith(message)


def _select(candidates: Path, output: Path, preset: str = "balanced") -> int:
    return select.run(
        ["--candidates", str(candidates), "--output", str(output), "--preset", preset]
    )


def test_select_ranks_the_candidates_and_writes_one_artifact_that_predicts(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    data = load_breast_cancer(as_frame=True).frame
    _prepared(opt_ml, data)
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    scores = {
        name: _train_candidate(opt_ml, name, candidates, preset="fast")["validation"]["score"]
        for name in ("lightgbm", "linear", "extra_trees")
    }

    assert _select(candidates, tmp_path / "selected") == 0

    board = json.loads((tmp_path / "selected" / "leaderboard.json").read_text())
    ranked = [row["algorithm"] for row in board["candidates"]]
    assert ranked == sorted(scores, key=lambda name: -scores[name])
    assert board["metric"] == "roc_auc"
    assert board["winner"] in (ranked[0], "ensemble")
    if board["winner"] == "ensemble":
        assert board["ensemble"]["score"] > scores[ranked[0]]
    with tarfile.open(tmp_path / "selected" / "model.tar.gz") as tar:
        assert {"model.joblib", "leaderboard.json", "model-info.json"} <= set(tar.getnames())
    model = load_model(unpack_model(tmp_path / "selected", tmp_path / "unpacked"))
    assert model.algorithm == board["winner"]
    predicted = model.predict(data.drop(columns=["target"]).head(5))
    assert predicted.probabilities.shape == (5, 2)


def test_an_ensemble_is_kept_only_when_it_beats_the_best_single_candidate() -> None:
    actual = np.array([0, 1, 0, 1, 0, 1])
    perfect = np.array([[0.9, 0.1], [0.1, 0.9]] * 3)
    poor = np.array([[0.4, 0.6], [0.6, 0.4]] * 3)

    def record(name: str, oof: np.ndarray, score: float) -> dict:
        return {
            "algorithm": name,
            "metric": "roc_auc",
            "direction": "higher",
            "validation": {"score": score, "method": "5-fold cross-validation"},
            "hyperparameters": {},
            "trials": {"run": 1, "stopped_by": "trials"},
            "actual": actual,
            "oof": oof,
        }

    board = select.choose([record("a", perfect, 1.0), record("b", poor, 0.0)], True, "binary")

    assert board["winner"] == "a"
    assert board["ensemble"]["chosen"] is False
    assert "a had the best validation roc_auc" in board["why"]


def test_select_compares_what_is_left_when_a_candidate_failed_and_fails_when_none_is(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    _prepared(opt_ml, mixed_frame(200))
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    _train_candidate(opt_ml, "linear", candidates, preset="fast")
    (candidates / "lightgbm").mkdir()  # a failed job's prefix: nothing in it

    assert _select(candidates, tmp_path / "selected") == 0
    board = json.loads((tmp_path / "selected" / "leaderboard.json").read_text())
    assert [row["algorithm"] for row in board["candidates"]] == ["linear"]

    empty = tmp_path / "none"
    empty.mkdir()
    assert _select(empty, tmp_path / "again") == 1


@pytest.mark.slow
def test_the_balanced_search_does_at_least_as_well_as_its_default_candidate_on_regression(
    opt_ml: OptMl, tmp_path: Path
) -> None:
    """On scikit-learn's diabetes table, the search's choice is never worse on validation than
    plain XGBoost with its defaults (the first trial of the xgboost candidate)."""
    _prepared(opt_ml, load_diabetes(as_frame=True).frame)
    candidates = tmp_path / "candidates"
    candidates.mkdir()
    records = {
        name: _train_candidate(opt_ml, name, candidates, preset="balanced")
        for name in ("xgboost", "lightgbm", "extra_trees", "linear")
    }
    default_xgboost = records["xgboost"]["trials"]["scores"][0]

    assert _select(candidates, tmp_path / "selected") == 0

    board = json.loads((tmp_path / "selected" / "leaderboard.json").read_text())
    best = (
        board["ensemble"]["score"]
        if board["winner"] == "ensemble"
        else board["candidates"][0]["score"]
    )
    assert best >= default_xgboost
