"""Multi-GPU training (issue 26 item 4): one trainer process per GPU under torchrun, DDP by default, FSDP as an
option (hyperparameter `distributed`).

The launch (the supervisor's side): a pod with `TRAINPOD_GPU_COUNT` > 1 (the worker sets it from the deployment's
gpuCount) runs the trainer child as `python -m torch.distributed.run --standalone --nproc-per-node N -m
trainpod_agent trainer ...` (torchrun, torch's own launcher; `accelerate launch --multi_gpu` runs the same thing,
but its CPU path needs MPI, and the CPU test runs 2 processes with gloo). Each rank runs the whole child: it fetches
the model (the hub's cache is safe to share: a file another rank is fetching is waited for under its lock, never
fetched twice), tokenizes the same rows (the eval split is seeded: the same on every rank), and trains its share of
each batch (transformers' Trainer: DistributedSampler, DDP or FSDP, gloo on the CPU, nccl on GPUs).

Who reports (the rank's side): rank 0 only writes events (phases, progress, the train phase's facts) and files (the
adapter, the tokenizer, the merged weights); every rank's stdout and stderr are the run's log. torchrun starts each
rank with only stdin/stdout/stderr open, so rank 0 reaches the event pipe through its launcher's copy of it
(/proc/<ppid>/fd/N). A rank that fails writes one `trainer_exit` record there (read and kept by the supervisor,
never sent): torchrun itself exits 1 whatever went wrong, and the exit code says whose fault it was.

The simulated ML work (the RunPod simulator's pods) makes the same plan and logs it, but runs one process
(TRAINPOD_PROCESSES tells it how many it stands for). Standard library only: torch is imported inside the functions
that need it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

GPU_COUNT_ENV = "TRAINPOD_GPU_COUNT"  # the deployment's gpuCount (the worker's pod env)
PROCESSES_ENV = "TRAINPOD_PROCESSES"  # the processes the launch plan asked for (set by the supervisor)
STRATEGIES = ("ddp", "fsdp")
EXIT_EVENT = "trainer_exit"  # a failed rank's exit code, for the supervisor only
LAUNCHER = ("-m", "torch.distributed.run")


def gpu_count(environ: Mapping[str, str]) -> int:
    """The pod's GPUs as the deployment asked for them (TRAINPOD_GPU_COUNT, 1 to 64; anything else is 1)."""
    value = environ.get(GPU_COUNT_ENV, "").strip()
    return min(64, max(1, int(value))) if value.isdigit() else 1


def strategy_of(hyperparameters: str) -> str:
    """The `distributed` hyperparameter of the run's JSON, read leniently (the child checks it: exit 2)."""
    try:
        given = json.loads(hyperparameters or "{}")
    except ValueError:
        return "ddp"
    value = given.get("distributed") if isinstance(given, dict) else None
    return value if value in STRATEGIES else "ddp"


@dataclass(frozen=True)
class LaunchPlan:
    processes: int
    strategy: str  # "single" (one process), "ddp" or "fsdp"
    argv: list[str]

    single: list[str]  # the one-process command (what the simulated ML runs whatever the plan)

    def lines(self, simulated: bool) -> list[str]:
        """The log's lines about the launch."""
        if self.processes == 1:
            return ["launch: one trainer process"]
        out = ["launch: torchrun --standalone --nproc-per-node %d (%s: one trainer process per GPU, rank 0 reports)"
               % (self.processes, self.strategy.upper())]
        if simulated:
            out.append("launch: simulated ML, one process stands for the %d ranks" % self.processes)
        return out

    def command(self, simulated: bool) -> list[str]:
        return self.single if simulated else self.argv


def launch_plan(trainer: Sequence[str], processes: int, hyperparameters: str) -> LaunchPlan:
    """How to start `trainer` (`python -m trainpod_agent trainer ...`) on a pod with `processes` GPUs."""
    if processes <= 1:
        return LaunchPlan(1, "single", list(trainer), list(trainer))
    argv = [trainer[0], *LAUNCHER, "--standalone", "--nnodes=1", "--nproc-per-node=%d" % processes,
            "--max-restarts=0", *trainer[1:]]
    return LaunchPlan(processes, strategy_of(hyperparameters), argv, list(trainer))


# ---- the rank's side (inside the trainer child) ----


def rank(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    value = env.get("RANK", "0")
    return int(value) if value.isdigit() else 0


def world_size(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    value = env.get("WORLD_SIZE", "1")
    return max(1, int(value)) if value.isdigit() else 1


def is_main(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process reports and writes files: rank 0, or the only process."""
    return rank(environ) == 0


def processes(environ: Mapping[str, str] | None = None) -> int:
    """The processes training together: torchrun's WORLD_SIZE, else what the plan asked for (the simulated ML's
    one process stands for them), else 1."""
    env = os.environ if environ is None else environ
    if world_size(env) > 1:
        return world_size(env)
    value = env.get(PROCESSES_ENV, "1")
    return max(1, int(value)) if value.isdigit() else 1


def event_stream(fd: int, environ: Mapping[str, str] | None = None) -> IO[str]:
    """The event pipe: the inherited descriptor, or under torchrun (which closes it in the ranks) the launcher's."""
    if world_size(environ) > 1:
        return open("/proc/%d/fd/%d" % (os.getppid(), fd), "w", buffering=1, encoding="utf-8")
    return os.fdopen(fd, "w", buffering=1, encoding="utf-8")


def die_with_parent() -> None:
    """A rank ends when torchrun does (it starts each rank in its own session: a SIGKILL of the trainer's group
    after the stop's grace would leave the ranks holding the GPUs)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the launcher was gone already
        os._exit(143)


def report_exit(code: int, environ: Mapping[str, str] | None = None) -> None:
    """A failed rank's exit code to the supervisor (any rank: the first one to fail is the run's cause)."""
    env = os.environ if environ is None else environ
    fd = env.get("TRAINPOD_EVENT_FD", "")
    if code == 0 or not fd.isdigit():
        return
    try:
        with event_stream(int(fd), env) as out:
            out.write(json.dumps({"type": EXIT_EVENT, "code": int(code), "rank": rank(env)}) + "\n")
    except OSError:
        pass


def as_rank(child: Callable[[list[str]], int], argv: list[str]) -> int:
    """The trainer child's entry: under torchrun, tied to its launcher, and a failure's exit code reported."""
    if world_size() <= 1:
        return child(argv)
    die_with_parent()
    if not is_main():  # the log has rank 0's lines once, every rank's errors, and each rank's own line (say)
        sys.stdout = open(os.devnull, "w")  # for the process's life
    code = child(argv)
    report_exit(code)
    return code


def say(line: str) -> None:
    """A line in the log from any rank (the others' stdout is quiet), in one write: the ranks share the pipe."""
    out = sys.__stdout__
    if out is not None:
        out.write(line + "\n")
        out.flush()


def batch_facts(hp: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The train phase's facts about the batch: the processes and the effective global batch (rows per optimizer
    step) = batch_size (per device) × gradient_accumulation_steps × processes. Two facts only: a phase event carries
    at most 16 (the API's rule); the per-device batch and the accumulation are the run's hyperparameters, and the
    log's batch line names all four."""
    n = processes(environ)
    return {"processes": n, "global_batch": int(hp["batch_size"]) * int(hp["gradient_accumulation_steps"]) * n}


def batch_line(hp: dict[str, Any], environ: Mapping[str, str] | None = None) -> str:
    f = batch_facts(hp, environ)
    how = "" if f["processes"] == 1 else " (%s)" % hp.get("distributed", "ddp")
    return ("batch: %d rows per device × %d accumulation steps × %d process(es) = %d rows per optimizer step%s"
            % (hp["batch_size"], hp["gradient_accumulation_steps"], f["processes"], f["global_batch"], how))


def training_arguments(hp: dict[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The trainer's arguments for several processes (none for one). DDP: every adapter weight gets a gradient, so
    no search for unused ones. FSDP (a model that does not fit one GPU): transformers' `fsdp` / `fsdp_config` (FSDP2,
    each decoder layer a unit, the full state dict gathered for the save, activation checkpointing FSDP's own in
    place of the trainer's: transformers issue 30404)."""
    if world_size(environ) <= 1:
        return {}
    if hp.get("distributed") == "fsdp":
        return {
            "fsdp": True,
            "fsdp_config": {"version": 2, "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
                            "state_dict_type": "FULL_STATE_DICT", "activation_checkpointing": True},
            "activation_checkpointing": False,
        }
    return {"ddp_find_unused_parameters": False}


def share_tokens(trainer: Any, count: Any) -> None:
    """After training under several processes: this rank's line in the log (each rank trained its share), then the
    token counts (train_report.TokenCount, counted on this rank's batches) summed over the ranks, on every rank."""
    n = world_size()
    if n <= 1:
        return
    import torch

    state = trainer.state
    say("rank %d of %d: trained %d steps on %s, %d real tokens in %d positions"
        % (rank(), n, state.global_step, trainer.args.device, count.real, count.total))
    acc = trainer.accelerator
    summed = acc.reduce(torch.tensor([count.real, count.total], dtype=torch.long, device=acc.device), "sum")
    count.real, count.total = (int(v) for v in summed.tolist())


def is_main_process(trainer: Any) -> bool:
    """Whether this process writes the run's files (transformers' own answer under torchrun)."""
    return bool(trainer.is_world_process_zero()) if world_size() > 1 else True
