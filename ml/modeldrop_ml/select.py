"""Processing job: choose the run's model among the candidates its training jobs made.

Input ``--candidates`` (default ``/opt/ml/processing/input/candidates``): every candidate
training job's ``model.tar.gz`` under it, as SageMaker downloads an S3 prefix (``<job>/output/
model.tar.gz``), or their unpacked folders. A candidate job that failed left no archive; the
others are still compared, and the job fails only when none is left.

Candidates are ranked by their validation score (from their own cross-validation or the
validation split, never the test split). When the preset allows it, a weighted ensemble is
built from the candidates' out-of-fold predictions by greedy forward selection with replacement
(Caruana et al., 2004) and kept only when it beats the best single candidate on those rows.
Every candidate was already refit on train + validation, so the winner needs no more training.

Writes to ``--output`` (default ``/opt/ml/processing/output/model``): ``model.tar.gz``, the one
artifact evaluate, the registry and batch transform use (the winner's files, or the ensemble's
``model.joblib`` with the best member's history), and ``leaderboard.json`` beside it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from . import env
from .artifact import ARTIFACT, load_model
from .errors import JobArgumentParser, JobFailed, run_job
from .progress import log, progress
from .search import LOWER_IS_BETTER, better, preset_settings, score
from .tabular import EnsembleModel, ensemble_importance

STEP = "select"
ENSEMBLE_ROUNDS = 25
# The ensemble must beat the best single candidate by more than this, relative to its score,
# to be worth the extra prediction time.
ENSEMBLE_MARGIN = 1e-4
ARTIFACT_FILES = ("history.json", "model-info.json", "dataset.json", "candidate.json")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = JobArgumentParser(prog="select", description=__doc__)
    parser.add_argument("--candidates", type=Path, default=env.processing_input("candidates"))
    parser.add_argument("--output", type=Path, default=env.processing_output("model"))
    parser.add_argument("--preset", default=None)
    return parser.parse_args(argv)


def _unpacked(candidates: Path, scratch: Path) -> list[Path]:
    """One folder per candidate holding its candidate.json, in a stable order."""
    folders = []
    for archive in sorted(candidates.rglob("model.tar.gz")):
        target = scratch / str(len(folders))
        target.mkdir()
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
        except (tarfile.TarError, OSError) as error:
            log(f"skipped {archive.relative_to(candidates)}: not a readable archive ({error})")
            continue
        folders.append(target)
    folders += sorted(path.parent for path in candidates.rglob("candidate.json"))
    return [folder for folder in folders if (folder / "candidate.json").is_file()]


def _read(folder: Path) -> dict[str, Any]:
    record = json.loads((folder / "candidate.json").read_text(encoding="utf-8"))
    record["folder"] = folder
    oof = folder / "oof.npz"
    if oof.is_file():
        with np.load(oof) as data:
            record["actual"], record["oof"] = data["actual"], data["predictions"]
    return record


def greedy_ensemble(
    records: list[dict[str, Any]], metric: str, task: str
) -> tuple[dict[int, int], float]:
    """Caruana's forward selection: how many times each candidate is picked, and the score."""
    actual = records[0]["actual"]
    picks: dict[int, int] = {}
    total = np.zeros_like(records[0]["oof"], dtype=np.float64)
    best_score: float | None = None
    for round_number in range(1, ENSEMBLE_ROUNDS + 1):
        trial_scores = [
            score(metric, task, actual, (total + record["oof"]) / round_number)
            for record in records
        ]
        choice = trial_scores.index(
            min(trial_scores) if metric in LOWER_IS_BETTER else max(trial_scores)
        )
        total += records[choice]["oof"]
        picks[choice] = picks.get(choice, 0) + 1
        current = trial_scores[choice]
        if best_score is None or better(metric, current, best_score):
            best_score = current
    assert best_score is not None
    return picks, best_score


def _comparable(records: list[dict[str, Any]]) -> bool:
    """Whether every candidate's out-of-fold predictions cover the same rows in the same order."""
    first = records[0]
    return all(
        "oof" in record
        and record["oof"].shape == first["oof"].shape
        and np.array_equal(record["actual"], first["actual"])
        for record in records
    )


def _leader_row(record: dict[str, Any]) -> dict[str, Any]:
    validation = record["validation"]
    return {
        "algorithm": record["algorithm"],
        "score": validation["score"],
        "std": validation.get("std"),
        "method": validation["method"],
        "hyperparameters": record["hyperparameters"],
        "trials": record["trials"]["run"],
        "stopped_by": record["trials"]["stopped_by"],
        "seconds": record.get("seconds"),
    }


def choose(records: list[dict[str, Any]], allow_ensemble: bool, task: str) -> dict[str, Any]:
    """The leaderboard: every candidate ranked, the winner and why it won."""
    metric = records[0]["metric"]
    ranked = sorted(
        records,
        key=lambda r: r["validation"]["score"] or 0.0,
        reverse=metric not in LOWER_IS_BETTER,
    )
    best = ranked[0]
    board: dict[str, Any] = {
        "metric": metric,
        "direction": best["direction"],
        "candidates": [_leader_row(record) for record in ranked],
        "winner": best["algorithm"],
        "ensemble": None,
    }
    runner_up = ranked[1] if len(ranked) > 1 else None
    board["why"] = (
        f"{best['algorithm']} had the best validation {metric} ({best['validation']['score']:.4g}"
        + (
            f", against {runner_up['algorithm']}'s {runner_up['validation']['score']:.4g})"
            if runner_up
            else ")"
        )
        + f" on {best['validation']['method']}"
    )
    if (
        allow_ensemble
        and len(ranked) > 1
        and task != "image_classification"
        and _comparable(ranked)
    ):
        picks, ensemble_score = greedy_ensemble(ranked, metric, task)
        single = best["validation"]["score"]
        weights = {ranked[i]["algorithm"]: count / ENSEMBLE_ROUNDS for i, count in picks.items()}
        margin = ENSEMBLE_MARGIN * max(abs(single), 1e-12)
        wins = (
            len(picks) > 1
            and better(metric, ensemble_score, single)
            and abs(ensemble_score - single) > margin
        )
        board["ensemble"] = {"score": ensemble_score, "weights": weights, "chosen": wins}
        if wins:
            board["winner"] = "ensemble"
            board["why"] = (
                f"a weighted ensemble of {', '.join(f'{name} ({w:.0%})' for name, w in weights.items())} "
                f"scored {ensemble_score:.4g} {metric} on the validation rows, better than the best "
                f"single candidate, {best['algorithm']} ({single:.4g})"
            )
    return board


def write_artifact(board: dict[str, Any], ranked: list[dict[str, Any]], output: Path) -> None:
    by_name = {record["algorithm"]: record for record in ranked}
    best = by_name[board["candidates"][0]["algorithm"]]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name in ARTIFACT_FILES:
            if (best["folder"] / name).is_file():
                shutil.copy(best["folder"] / name, folder / name)
        if board["winner"] == "ensemble":
            members = [
                (weight, load_model(by_name[name]["folder"]))
                for name, weight in board["ensemble"]["weights"].items()
            ]
            schema = members[0][1].schema
            model = EnsembleModel(schema, members, ensemble_importance(members))
            joblib.dump(model, folder / ARTIFACT)
            info = json.loads((folder / "model-info.json").read_text(encoding="utf-8"))
            info["algorithm"] = "ensemble"
            info["members"] = board["ensemble"]["weights"]
            (folder / "model-info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
        else:
            shutil.copy(best["folder"] / ARTIFACT, folder / ARTIFACT)
        (folder / "leaderboard.json").write_text(
            json.dumps(board, indent=2, default=float), encoding="utf-8"
        )
        output.mkdir(parents=True, exist_ok=True)
        with tarfile.open(output / "model.tar.gz", "w:gz") as tar:
            for path in sorted(folder.iterdir()):
                tar.add(path, arcname=path.name)
    (output / "leaderboard.json").write_text(
        json.dumps(board, indent=2, default=float), encoding="utf-8"
    )


def main(args: argparse.Namespace) -> None:
    progress(STEP, 0, 3, "reading the candidates")
    with tempfile.TemporaryDirectory() as scratch:
        records = [_read(folder) for folder in _unpacked(args.candidates, Path(scratch))]
        if not records:
            raise JobFailed(
                "no candidate training job left a model: every candidate failed (see the train "
                "steps' logs)."
            )
        task = json.loads((records[0]["folder"] / "dataset.json").read_text(encoding="utf-8"))[
            "task"
        ]
        progress(STEP, 1, 3, f"comparing {len(records)} candidate(s)")
        board = choose(records, bool(preset_settings(args.preset)["ensemble"]), task)
        log(f"winner: {board['winner']}: {board['why']}")
        progress(STEP, 2, 3, "writing the chosen model")
        write_artifact(board, records, args.output)
    progress(STEP, 3, 3, f"chose {board['winner']}")


def run(argv: list[str] | None = None) -> int:
    return run_job(STEP, env.processing_failure_file(), lambda: main(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(run())
