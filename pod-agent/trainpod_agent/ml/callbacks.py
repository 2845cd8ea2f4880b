"""The training loop's reports: a transformers TrainerCallback that prints one line a logged step, reports it
through the seam's Reporter (the supervisor sends it; nothing here touches the network) and advances the train
phase. transformers is imported inside progress_callback, so this module imports without it."""

from __future__ import annotations

import math
from typing import Any

from trainpod_agent.ml.seam import Phase, Reporter

METRICS = ("learning_rate", "grad_norm")  # reported beside the loss when the log has them


def set_phase_total(phase: Phase, total: int | None) -> None:
    """Tells the phase its total once it is known inside the step (a model's bytes, a run's steps); an unknown
    total (None, or trainer's -1) leaves it as it is."""
    if total is not None and total > 0:
        phase.total = int(total)


def _number(value: Any) -> float | None:
    """A log value as a finite float (a tensor's .item()), else None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def step_report(step: int, max_steps: int, logs: dict[str, Any]) -> dict[str, Any] | None:
    """The progress report of one log, or None when the log has no training loss (the final summary)."""
    loss = _number(logs.get("loss"))
    if loss is None:
        return None
    metrics = {name: v for name in METRICS if (v := _number(logs.get(name))) is not None}
    return {"step": int(step), "total_steps": int(max_steps) if max_steps > 0 else None, "loss": loss, **metrics}


def progress_callback(report: Reporter, phase: Phase) -> Any:
    """A TrainerCallback: `step N/M loss X` on stdout, report.progress(...) and phase.advance(step) a logged step."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            set_phase_total(phase, state.max_steps)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            body = step_report(state.global_step, state.max_steps, logs or {})
            if body is None:
                return
            print(f"step {body['step']}/{state.max_steps} loss {body['loss']:.4f}", flush=True)
            report.progress(**body)
            phase.advance(body["step"])

    return Progress()
