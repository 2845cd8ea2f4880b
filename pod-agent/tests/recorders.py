"""Recording stand-ins for the seam's Phase and Reporter: the real ML work's tests read what it reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class RecordedPhase:
    def __init__(self, name: str = "", total: int | None = None, unit: str | None = None) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done: list[int] = []
        self.data: dict[str, Any] = {}

    def advance(self, done: int) -> None:
        self.done.append(done)

    def note(self, **data: Any) -> None:
        self.data.update(data)


class Recorder:
    """A seam.Reporter that keeps every phase and progress report."""

    def __init__(self) -> None:
        self.phases: dict[str, RecordedPhase] = {}
        self.progress_reports: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def phase(self, name: str, total: int | None = None, unit: str | None = None) -> Iterator[RecordedPhase]:
        self.phases[name] = RecordedPhase(name, total, unit)
        yield self.phases[name]

    def progress(self, step: int, total_steps: int | None, loss: float | None = None, **metrics: float) -> None:
        self.progress_reports.append({"step": step, "totalSteps": total_steps, "loss": loss, **metrics})
