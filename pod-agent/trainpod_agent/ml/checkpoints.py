"""Checkpoints (issue 27) on transformers' own machinery: `save_strategy="steps"`, `save_steps`, `save_total_limit`
and `trainer.train(resume_from_checkpoint=...)`; nothing here saves or loads a tensor. This module adds what
transformers lacks: a save every N minutes by an injectable clock (a TrainerCallback that sets
`control.should_save`), and the hand-over of each saved folder to the supervisor, which uploads it in the background
(checkpoint_upload.py) while training goes on.

When: `checkpoint_every_steps` (None: a tenth of the run's steps, transformers' float `save_steps`; 0: none by steps)
and `checkpoint_every_minutes` (None: 30 while checkpoints are on), the last `checkpoints_kept` (default 2) kept.
With early stopping the strategy stays `"best"` (a new best eval loss saves, and is the adapter loaded at the end):
the step and minute saves come from the callback, full checkpoints (optimizer, scheduler, RNG, trainer state), so
any of them resumes a run.

Hand-over: at `on_save` (rank 0) the new `checkpoint-N` folder is hard-linked (copied where links fail) into
`<TRAINPOD_CHECKPOINT_STAGING>/step-00000N/` before transformers' rotation can delete it, then announced on the event
pipe as `{"type": "checkpoint", "step": N, "dir": ...}` (never sent to the API: the supervisor keeps it).
"""

from __future__ import annotations

import math
import os
import shutil
from typing import Any

from trainpod_agent.clock import Clock, SystemClock

DEFAULT_SHARE = 0.1  # checkpoint_every_steps unset: every tenth of the run (a float below 1 is a share of the steps)
DEFAULT_MINUTES = 30.0
CHECKPOINT_DIR_ENV = "TRAINPOD_CHECKPOINT_DIR"  # where the trainer writes its checkpoint-N folders (the pod's volume)
STAGING_ENV = "TRAINPOD_CHECKPOINT_STAGING"  # where saved folders are staged for the upload
RESUME_ENV = "TRAINPOD_RESUME_CHECKPOINT"  # a downloaded checkpoint folder to resume from
MANIFEST = "trainpod-checkpoint.json"  # written last into each uploaded checkpoint: the folder is complete


def step_folder(step: int) -> str:
    """The checkpoint's folder in storage: checkpoints/step-000120 (sorts by step)."""
    return "checkpoints/step-%06d" % int(step)


def enabled(hp: dict[str, Any]) -> bool:
    return hp.get("checkpoint_every_steps") != 0 or hp.get("checkpoint_every_minutes") is not None


def every_minutes(hp: dict[str, Any]) -> float | None:
    if not enabled(hp):
        return None
    minutes = hp.get("checkpoint_every_minutes")
    return float(minutes) if minutes is not None else DEFAULT_MINUTES


def every_steps(hp: dict[str, Any], max_steps: int) -> int | None:
    """The steps between checkpoints for a run of `max_steps` (None: none by steps)."""
    given = hp.get("checkpoint_every_steps")
    if given == 0 or not enabled(hp):
        return None
    if given is not None:
        return int(given)
    return max(1, math.ceil(max_steps * DEFAULT_SHARE)) if max_steps > 0 else None


def training_arguments(hp: dict[str, Any], early_stopping: bool) -> dict[str, Any]:
    """The TrainingArguments for checkpoints; {} when they are off (the caller's save_strategy stands)."""
    if not enabled(hp):
        return {}
    kept = int(hp.get("checkpoints_kept") or 2)
    if early_stopping:  # "best" stays; full checkpoints, so a best one resumes too; +1: the best is kept besides
        return {"save_only_model": False, "save_total_limit": kept + 1}
    given = hp.get("checkpoint_every_steps")
    steps: float = DEFAULT_SHARE if given is None else int(given)
    if steps == 0:  # minutes only: the callback asks for each save (transformers saves whenever should_save is set)
        return {"save_strategy": "no", "save_total_limit": kept}
    return {"save_strategy": "steps", "save_steps": steps, "save_total_limit": kept}


def stage(source: str, staging_root: str, step: int) -> str:
    """A copy of the checkpoint folder that transformers' rotation cannot take away: hard links (no bytes copied),
    a copy where the file system refuses them. Answers the staged folder."""
    target = os.path.join(staging_root, "step-%06d" % int(step))
    if os.path.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=_link_or_copy)
    return target


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def checkpoint_callback(hp: dict[str, Any], report: Any, clock: Clock | None = None, by_steps: bool = False) -> Any:
    """A TrainerCallback: a save every `checkpoint_every_minutes` by `clock` (and every N steps when `by_steps`:
    the "best" strategy, which saves nothing by steps itself); a due save that the trainer skipped (an eval that
    found no new best overrides it) is asked again at the next step. Each save is staged and announced."""
    from transformers import TrainerCallback

    time = clock or SystemClock()
    minutes = every_minutes(hp)

    class Checkpoints(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.last = time.monotonic()
            self.steps: int | None = None
            self.due = False
            self.saved: list[int] = []

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last = time.monotonic()
            self.steps = every_steps(hp, int(state.max_steps)) if by_steps else None

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.steps and state.global_step % self.steps == 0 and state.global_step < state.max_steps:
                self.due = True
            if minutes is not None and time.monotonic() - self.last >= minutes * 60:
                self.due = True
            if self.due:
                control.should_save = True

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last, self.due = time.monotonic(), False
            step = int(state.global_step)
            self.saved.append(step)
            if not getattr(state, "is_world_process_zero", True):
                return
            folder = os.path.join(args.output_dir, "checkpoint-%d" % step)
            staging = os.environ.get(STAGING_ENV)
            if not staging or not os.path.isdir(folder):
                return
            staged = stage(folder, staging, step)
            print("checkpoint at step %d: %s" % (step, folder), flush=True)
            announce = getattr(report, "checkpoint", None)
            if announce is not None:
                announce(step, staged)

    return Checkpoints()


def checkpoint_dir(default: str) -> str:
    """Where the trainer writes its checkpoints: the supervisor's folder on the volume, else `default`."""
    return os.environ.get(CHECKPOINT_DIR_ENV) or default


def resume_from() -> str | None:
    """The downloaded checkpoint to resume from (the supervisor's), if any."""
    found = os.environ.get(RESUME_ENV)
    return found if found and os.path.isdir(found) else None
