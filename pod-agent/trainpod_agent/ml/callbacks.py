"""The training loop's reports: a transformers TrainerCallback that prints one line a logged step, reports it
through the seam's Reporter (the supervisor sends it; nothing here touches the network) and advances the train
phase. A step that is evaluated is reported once, after its eval, with the eval loss beside the training loss.
transformers is imported inside progress_callback, so this module imports without it."""

from __future__ import annotations

import math
from typing import Any

from trainpod_agent.ml.seam import Phase, Reporter

METRICS = ("learning_rate", "grad_norm")  # reported beside the loss when the log has them
REWARD_MARGIN = "rewards/margins"  # DPO's (trl's DPOTrainer logs it): the API's `rewardMargin`


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
    margin = _number(logs.get(REWARD_MARGIN))
    if margin is not None:
        metrics["reward_margin"] = margin
    return {"step": int(step), "total_steps": int(max_steps) if max_steps > 0 else None, "loss": loss, **metrics}


def eval_loss(logs: dict[str, Any]) -> float | None:
    """The eval loss of an eval's log, else None."""
    return _number(logs.get("eval_loss"))


def progress_callback(report: Reporter, phase: Phase) -> Any:
    """A TrainerCallback: `step N/M loss X [eval_loss Y]` on stdout, report.progress(...) and phase.advance(step)
    a logged step; a step about to be evaluated waits for its eval (the trainer logs the step, then evaluates)."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.waiting: dict[str, Any] | None = None  # the step's report, until its eval
            self.training = False
            self.evals: list[tuple[int, float]] = []  # (step, eval loss) of each eval during training

        def send(self, body: dict[str, Any]) -> None:
            ev = f" eval_loss {body['eval_loss']:.4f}" if "eval_loss" in body else ""
            ev += f" reward_margin {body['reward_margin']:.4f}" if "reward_margin" in body else ""
            print(f"step {body['step']}/{body['total_steps'] or '?'} loss {body['loss']:.4f}{ev}", flush=True)
            report.progress(**body)
            phase.advance(body["step"])

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            set_phase_total(phase, state.max_steps)
            self.training = True

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            if not getattr(state, "is_world_process_zero", True):  # under torchrun every rank logs the same losses
                return
            logs = logs or {}
            evaluated = eval_loss(logs)
            if evaluated is not None:
                if self.training:  # an evaluate() after training is not a step: the run's facts have it
                    self.evals.append((int(state.global_step), evaluated))
                    if self.waiting is not None:
                        self.send({**self.waiting, "eval_loss": evaluated})
                        self.waiting = None
                return
            body = step_report(state.global_step, state.max_steps, logs)
            if body is None:
                return
            if control.should_evaluate:
                self.waiting = body
            else:
                self.send(body)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.waiting is not None:
                self.send(self.waiting)
            self.waiting, self.training = None, False

    return Progress()


def training_callbacks(report: Reporter, phase: Phase, hp: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The progress callback and the run's callbacks: it, then transformers' EarlyStoppingCallback when the
    hyperparameters ask for early stopping (early_stopping_patience, early_stopping_threshold)."""
    from transformers import EarlyStoppingCallback

    progress = progress_callback(report, phase)
    patience = hp["early_stopping_patience"]
    if not patience:
        return progress, [progress]
    threshold = hp["early_stopping_threshold"] or 0.0
    return progress, [
        progress,
        EarlyStoppingCallback(early_stopping_patience=patience, early_stopping_threshold=threshold),
    ]
