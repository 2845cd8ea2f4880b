"""Phases and progress as events, written to a sink: in the trainer child, JSON lines on the file descriptor
TRAINPOD_EVENT_FD (read by the supervisor, which sends them to the API); in the supervisor, its outbox. Without
the variable (a trainer run by hand), and on a rank other than 0 under torchrun (ml/distributed.py), the child's
events go nowhere. Phase progress is throttled to one event every `every` seconds; a phase's end is always written."""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from trainpod_agent.clock import Clock, SystemClock
from trainpod_agent.ml.distributed import event_stream, is_main
from trainpod_agent.vocabulary import PHASES


class PhaseReport:
    def __init__(self, out: Events, name: str, total: int | None, unit: str | None, started: float) -> None:
        self._out, self.name, self.total, self.unit, self.started = out, name, total, unit, started
        self.done = 0
        self._last = started
        self.data: dict[str, Any] = {}

    def advance(self, done: int) -> None:
        self.done = int(done)
        now = self._out.clock.monotonic()
        if now - self._last >= self._out.every:
            self._last = now
            self._out.write(self._event("progress"))

    def note(self, **data: Any) -> None:
        """Facts for the phase's end event: numbers only (the API's rule); anything else goes to the log."""
        for key, value in data.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self.data[key] = value
            else:
                print("%s: %s=%s" % (self.name, key, value), flush=True)

    def _event(self, state: str, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "phase", "phase": self.name, "state": state}
        if self.total is not None:
            body["total"] = int(self.total)
        if state != "started":
            body["done"] = self.done
        if self.unit is not None:
            body["unit"] = self.unit
        body.update(extra)
        return body


Sink = Callable[[dict[str, Any]], None]


def stream_sink(stream: IO[str]) -> Sink:
    """JSON lines to a stream (thread-safe); once the reader is gone the events are dropped, training goes on."""
    lock = threading.Lock()
    state = {"stream": stream}

    def write(event: dict[str, Any]) -> None:
        out = state["stream"]
        if out is None:
            return
        line = json.dumps(event, separators=(",", ":"), allow_nan=False)
        with lock:
            try:
                out.write(line + "\n")
                out.flush()
            except (OSError, ValueError):
                state["stream"] = None

    return write


class Events:
    """Phases (a context manager each) and training progress, as event dicts handed to `sink`."""

    def __init__(self, sink: Sink | None, clock: Clock | None = None, every: float = 2.0) -> None:
        self.sink, self.clock, self.every = sink, clock or SystemClock(), every

    @classmethod
    def from_env(cls) -> Events:
        fd = os.environ.get("TRAINPOD_EVENT_FD")
        if not fd or not fd.isdigit() or not is_main():  # under torchrun, rank 0 alone reports
            return cls(None)
        return cls(stream_sink(event_stream(int(fd))))

    def write(self, event: dict[str, Any]) -> None:
        if self.sink is not None:
            self.sink(event)

    @contextmanager
    def phase(self, name: str, total: int | None = None, unit: str | None = None) -> Iterator[PhaseReport]:
        if name not in PHASES:
            raise ValueError("unknown phase %r" % name)
        report = PhaseReport(self, name, total, unit, self.clock.monotonic())
        self.write(report._event("started"))
        ok = False
        try:
            yield report
            ok = True
        finally:
            seconds = round(self.clock.monotonic() - report.started, 3)
            self.write(report._event("ended", seconds=seconds, ok=ok, **report.data))

    def checkpoint(self, step: int, folder: str) -> None:
        """A checkpoint saved and staged at `folder` (ml/checkpoints.py): for the supervisor's upload, never the API."""
        self.write({"type": "checkpoint", "step": int(step), "dir": folder})

    def progress(
        self,
        step: int,
        total_steps: int | None,
        loss: float | None = None,
        eval_loss: float | None = None,
        reward_margin: float | None = None,
        **metrics: float,
    ) -> None:
        body: dict[str, Any] = {"type": "progress", "step": int(step)}
        if total_steps:
            body["totalSteps"] = int(total_steps)
        if loss is not None:
            body["loss"] = round(float(loss), 6)
        if eval_loss is not None:
            body["evalLoss"] = round(float(eval_loss), 6)
        if reward_margin is not None:
            body["rewardMargin"] = round(float(reward_margin), 6)
        for key, value in metrics.items():
            if value is not None:
                body[key] = round(float(value), 6)
        self.write(body)
