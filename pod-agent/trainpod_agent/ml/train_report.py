"""What a training run reports at its end (the train phase's facts, and one line of the log): the losses, the eval
loss of the adapter that is saved, whether early stopping ended the run and what that saved, and the tokens of
real data against the positions computed (padding included), counted on the training batches as they are made.
Standard library only: the trainer and its state are taken as objects."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class TokenCount:
    """The training batches' tokens: `real` (the rows' own tokens) and `total` (the positions the model computes:
    real ones plus padding)."""

    real: int = 0
    total: int = 0

    def wrap(self, collate: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        """The collator, counting each batch it makes."""

        def counted(examples: list[dict[str, Any]]) -> dict[str, Any]:
            batch = collate(examples)
            self.real += sum(len(e["input_ids"]) for e in examples)
            self.total += int(batch["input_ids"].numel())
            return batch

        return counted

    def share(self) -> float | None:
        return self.real / self.total if self.total else None


def count_training_tokens(trainer: Any) -> TokenCount:
    """Counts the tokens of the batches trainer.train() trains on (its train dataloader's collator; the eval
    dataloader's batches are not counted)."""
    count = TokenCount()
    make = trainer.get_train_dataloader

    def get_train_dataloader() -> Any:
        plain = trainer.data_collator
        trainer.data_collator = count.wrap(plain)
        try:
            return make()
        finally:
            trainer.data_collator = plain

    trainer.get_train_dataloader = get_train_dataloader
    return count


@dataclass
class EarlyStop:
    """Early stopping's outcome: the run stopped at `step` of `planned`, the best eval at `best_step`."""

    step: int
    planned: int
    best_step: int | None
    seconds_per_step: float

    @property
    def steps_saved(self) -> int:
        return max(0, self.planned - self.step)

    @property
    def seconds_saved(self) -> float:
        return round(self.steps_saved * self.seconds_per_step, 1)


def early_stop(state: Any, patience: int | None, seconds: float) -> EarlyStop | None:
    """The EarlyStop when early stopping ended the run before its planned steps, else None."""
    if not patience or state.global_step >= state.max_steps or state.global_step <= 0:
        return None
    best = getattr(state, "best_global_step", None)
    return EarlyStop(state.global_step, state.max_steps, best, seconds / state.global_step)


def facts(
    train_loss: float | None,
    final_eval: float | None,
    stop: EarlyStop | None,
    tokens: TokenCount,
    seconds: float,
) -> dict[str, float]:
    """The train phase's facts (numbers, the API's rule): train_loss, eval_loss (of the adapter saved), the early
    stop's stopped_early / steps_saved / seconds_saved / best_step, tokens_real, tokens_total, real_token_share
    and real_tokens_per_s."""
    out: dict[str, float] = {}
    if train_loss is not None:
        out["train_loss"] = round(train_loss, 6)
    if final_eval is not None:
        out["eval_loss"] = round(final_eval, 6)
    if stop is not None:
        out.update(stopped_early=1, steps_saved=stop.steps_saved, seconds_saved=stop.seconds_saved)
        if stop.best_step is not None:
            out["best_step"] = stop.best_step
    share = tokens.share()
    if share is not None:
        out.update(tokens_real=tokens.real, tokens_total=tokens.total, real_token_share=round(share, 4))
        if seconds > 0:
            out["real_tokens_per_s"] = round(tokens.real / seconds, 1)
    return {k: v for k, v in out.items() if math.isfinite(v)}


def summary(found: dict[str, float], stop: EarlyStop | None, patience: int | None) -> list[str]:
    """The log's lines about the run's end."""
    lines = []
    if "tokens_real" in found:
        lines.append(
            "tokens: %d of real data in %d positions computed (%.1f%% real, %.1f%% padding), %.0f real tokens/s"
            % (
                found["tokens_real"],
                found["tokens_total"],
                100 * found["real_token_share"],
                100 * (1 - found["real_token_share"]),
                found.get("real_tokens_per_s", 0),
            )
        )
    if stop is not None:
        lines.append(
            "early stopping: the eval loss did not improve for %d evals; stopped at step %d of %d, %d steps "
            "(~%.0f s) saved; the adapter saved is the best one (step %s, eval loss %s)"
            % (
                patience or 0,
                stop.step,
                stop.planned,
                stop.steps_saved,
                stop.seconds_saved,
                stop.best_step,
                found.get("eval_loss"),
            )
        )
    if "eval_loss" in found and stop is None:
        lines.append("eval loss of the adapter saved: %.4f" % found["eval_loss"])
    return lines


def final_eval_loss(state: Any, evals: list[tuple[int, float]], best_loaded: bool) -> float | None:
    """The eval loss of the adapter that is saved: the best eval's when the best was loaded, else the last's."""
    best = getattr(state, "best_metric", None)
    if best_loaded and isinstance(best, (int, float)) and math.isfinite(best):
        return float(best)
    return evals[-1][1] if evals else None


def note_run(
    phase: Any,
    trainer: Any,
    output: Any,
    evals: list[tuple[int, float]],
    patience: int | None,
    tokens: TokenCount,
    extra: dict[str, float] | None = None,
) -> dict[str, float]:
    """The finished run's facts (with `extra`, a method's own) noted on the train phase, its summary printed;
    answers the facts. `output` is trainer.train()'s, `evals` the progress callback's."""
    seconds = float(output.metrics.get("train_runtime") or 0)
    stop = early_stop(trainer.state, patience, seconds)
    final = final_eval_loss(trainer.state, evals, best_loaded=bool(patience))
    found = {**facts(output.training_loss, final, stop, tokens, seconds), **(extra or {})}
    phase.note(**found)
    for line in summary(found, stop, patience):
        print(line, flush=True)
    return found
