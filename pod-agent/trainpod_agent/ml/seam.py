"""The seam between the run and the ML work: one small interface, a real implementation (transformers / peft /
trl, ml/real.py) and a simulated one (ml/simulated.py) whose sizes and speeds are parameters.

The trainer child (ml/child.py) walks the steps below, each inside its phase, and reports through a Reporter; it
never talks to the API itself (the supervisor does: one client, one sequence of events).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol


class InputError(ValueError):
    """A bad hyperparameter or dataset row (the user's data or config): exit code 2, found before any model loads."""


class ModelAccessError(RuntimeError):
    """The base model cannot be fetched: not found, gated without a token, the hub unreachable (exit code 4)."""


@dataclass
class RunSpec:
    """What one training run is given."""

    dataset: str  # the downloaded JSONL (sha256 checked by the supervisor)
    output_dir: str  # everything written here is uploaded as the run's artifacts
    base_model: str
    hyperparameters: dict[str, Any]  # checked and merged with the defaults (ml/hyperparameters.py)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the dataset's rows, checked (ml/data.py)
    row_format: str = "chat"  # "chat", "prompt_completion", "preference" or "preference_chat" (ml/data.py)


class Phase(Protocol):
    total: int | None  # set once known (e.g. the model's bytes, the run's steps)

    def advance(self, done: int) -> None:
        """`done` units of the phase's total so far (reported at most every few seconds, and at the end)."""

    def note(self, **data: Any) -> None:
        """Facts about the phase to report at its end (e.g. bytes=..., shards=...)."""


class Reporter(Protocol):
    def phase(self, name: str, total: int | None = None, unit: str | None = None) -> AbstractContextManager[Phase]:
        """A phase (vocabulary.PHASES): started on entry, ended on exit (with its duration)."""

    def progress(
        self,
        step: int,
        total_steps: int | None,
        loss: float | None = None,
        eval_loss: float | None = None,
        reward_margin: float | None = None,
        **metrics: float,
    ) -> None:
        """One training step's report (the API's `progress` event; `evalLoss` on a step that was evaluated,
        `rewardMargin` on a DPO step)."""


class MLWork(Protocol):
    """The ML part of a run. Each method runs inside its phase; `report` advances it."""

    def fetch_model(self, spec: RunSpec, phase: Phase) -> None:
        """model_download: the base model's files onto the pod (bytes of total)."""

    def load(self, spec: RunSpec, phase: Phase) -> None:
        """load: tokenizer and model into memory."""

    def prepare_data(self, spec: RunSpec, phase: Phase) -> None:
        """tokenize: the rows into training examples (rows of total)."""

    def train(self, spec: RunSpec, report: Reporter, phase: Phase) -> None:
        """train: steps, each reported with report.progress (steps of total)."""

    def save(self, spec: RunSpec, phase: Phase) -> list[str]:
        """save: the adapter (and merged weights, sharded) into spec.output_dir; the files written."""


class OutOfMemory(RuntimeError):
    """The GPU (or the host) ran out of memory: exit code 3, the user's configuration (batch, length, model)."""


class SimulatedFailure(RuntimeError):
    """The simulated trainer's configured failure (sim_fail_at_step): exits with its own code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
