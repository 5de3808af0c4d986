"""Fixtures: a temporary directory shaped like /opt/ml, and helpers that run the jobs in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from modeldrop_ml import evaluate, preprocess, train


@dataclass
class JobResult:
    code: int
    failure: str | None  # the text SageMaker would report (FailureReason / ExitMessage)


@dataclass
class OptMl:
    """A fake /opt/ml: jobs run in-process against it with their default paths."""

    root: Path

    @property
    def processed(self) -> Path:
        return self.root / "processing" / "output" / "processed"

    @property
    def evaluation(self) -> Path:
        return self.root / "processing" / "output" / "evaluation"

    @property
    def model(self) -> Path:
        return self.root / "model"

    def drop(self, name: str, content: bytes | str | pd.DataFrame, **csv_args: Any) -> Path:
        """Puts a dataset where preprocess reads it, replacing any earlier one."""
        folder = self.root / "processing" / "input" / "data"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        path = folder / name
        if isinstance(content, pd.DataFrame):
            if name.endswith(".parquet"):
                content.to_parquet(path, index=False)
            else:
                content.to_csv(path, index=False, **csv_args)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    def _run(
        self, job: Callable[[list[str]], int], argv: list[str], failure_file: Path
    ) -> JobResult:
        failure_file.unlink(missing_ok=True)
        code = job(argv)
        text = failure_file.read_text(encoding="utf-8") if failure_file.exists() else None
        return JobResult(code, text)

    def preprocess(self, options: dict[str, Any] | None = None) -> JobResult:
        argv = ["--options", json.dumps(options)] if options is not None else []
        return self._run(preprocess.run, argv, self.root / "output" / "message")

    def train(
        self, argv: list[str] | None = None, hyperparameters: dict[str, str] | None = None
    ) -> JobResult:
        for channel in ("train", "validation"):
            link = self.root / "input" / "data" / channel
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(self.processed / channel)
        config = self.root / "input" / "config" / "hyperparameters.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        # The jobs' own tests train with the fast preset (one trial per job); the search itself
        # is tested in test_search.py.
        settings = {"preset": "fast", **(hyperparameters or {})}
        config.write_text(json.dumps(settings), encoding="utf-8")
        return self._run(train.run, argv or [], self.root / "output" / "failure")

    def evaluate(self) -> JobResult:
        argv = ["--model", str(self.model), "--test", str(self.processed / "test")]
        return self._run(evaluate.run, argv, self.root / "output" / "message")

    def profile(self) -> dict[str, Any]:
        return json.loads((self.processed / "profile.json").read_text(encoding="utf-8"))

    def evaluation_json(self) -> dict[str, Any]:
        return json.loads((self.evaluation / "evaluation.json").read_text(encoding="utf-8"))

    def inference(self, what: str) -> Any:
        """The value preprocess inferred for `what` (e.g. 'target', 'task', 'column x')."""
        for item in self.profile()["inferences"]:
            if item["what"] == what:
                return item["value"]
        raise KeyError(what)


@pytest.fixture
def opt_ml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OptMl:
    root = tmp_path / "opt-ml"
    root.mkdir()
    monkeypatch.setenv("MODELDROP_OPT_ML", str(root))
    for variable in ("SM_MODEL_DIR", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_NUM_GPUS"):
        monkeypatch.delenv(variable, raising=False)
    return OptMl(root)


def mixed_frame(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small table with every column kind, missing values and a learnable binary target."""
    import numpy as np

    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 15_000, rows).round(2)
    age = rng.integers(18, 80, rows)
    city = rng.choice(["Lyon", "Paris", "Nantes", "Lille"], rows)
    member = rng.choice(["yes", "no"], rows)
    joined = pd.date_range("2020-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    score = (
        (income - 50_000) / 15_000 + (city == "Paris") * 1.5 + (member == "yes") - (age - 50) / 30
    )
    target = np.where(score + rng.normal(0, 0.5, rows) > 0.5, "churned", "stayed")
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(10_000, 10_000 + rows),
            "income": income,
            "age": age,
            "city": city,
            "member": member,
            "joined": joined,
            "constant": "x",
            "churn": target,
        }
    )
    frame.loc[rng.choice(rows, rows // 20, replace=False), "income"] = np.nan
    frame.loc[rng.choice(rows, rows // 20, replace=False), "city"] = None
    return frame
