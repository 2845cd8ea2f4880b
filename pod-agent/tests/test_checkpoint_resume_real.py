"""Issue 27 on the CPU, for real: the trainer child (a real process, the tiny Llama) trains 20 steps with a checkpoint
every 10, is killed (SIGKILL to its group) after step 12, and a second child resumes from the staged checkpoint of
step 10: it reports steps 11 to 20 only, and its losses are the uninterrupted run's (same seed). Needs the trainer
venv (scripts/trainer-venv.sh)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading
from typing import Any

import pytest
import tiny_model

from trainpod_agent.ml import checkpoints
from trainpod_agent.supervisor import TrainerProcess, package_root, trainer_argv, trainer_env

MISSING = [n for n in ("torch", "transformers", "peft", "trl", "datasets") if importlib.util.find_spec(n) is None]
pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)} (scripts/trainer-venv.sh)"),
]
HP = {
    "steps": 20,
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "learning_rate": 0.005,
    "max_seq_length": 64,
    "lora_r": 8,
    "lora_alpha": 16,
    "checkpoint_every_steps": 10,
    "tokenize_num_proc": 1,
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_model.build(str(tmp_path_factory.mktemp("model") / "tiny-llama"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("data") / "rows.jsonl")
    with open(path, "w") as f:
        for row in tiny_model.rows("chat", 32):
            f.write(json.dumps(row) + "\n")
    return path


class Child:
    """One trainer child run; `kill_after`: SIGKILL to its group once that step was reported."""

    def __init__(self, model: str, dataset: str, work: str, kill_after: int | None = None, resume: str | None = None):
        os.makedirs(work, exist_ok=True)
        self.events: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.kill_after = kill_after
        self.killed = threading.Event()
        env = trainer_env(os.environ, package_root())
        env.update(
            {
                "OMP_NUM_THREADS": "2",
                checkpoints.CHECKPOINT_DIR_ENV: os.path.join(work, "checkpoints"),
                checkpoints.STAGING_ENV: os.path.join(work, "staged"),
            }
        )
        os.makedirs(env[checkpoints.STAGING_ENV], exist_ok=True)
        env.pop(checkpoints.RESUME_ENV, None)
        if resume:
            env[checkpoints.RESUME_ENV] = resume
        argv = trainer_argv(sys.executable, dataset, os.path.join(work, "out"), model, json.dumps(HP))
        self.proc = TrainerProcess(argv, env, self.lines.append, self.on_event, cwd=work)
        self.code = self.proc.wait(drain_s=30)

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("type") == "progress" and event.get("step") == self.kill_after and not self.killed.is_set():
            self.killed.set()
            os.killpg(self.proc.pid, signal.SIGKILL)

    def losses(self) -> dict[int, float]:
        return {e["step"]: e["loss"] for e in self.events if e.get("type") == "progress"}

    def checkpoints(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "checkpoint"]


def test_killed_after_step_12_resumes_at_step_10_and_ends_at_20(model: str, dataset: str, tmp_path: Any) -> None:
    first = Child(model, dataset, str(tmp_path / "first"), kill_after=12)
    assert first.code == -signal.SIGKILL, "\n".join(first.lines[-30:])
    assert sorted(first.losses()) == list(range(1, 13))
    saved = first.checkpoints()
    assert [c["step"] for c in saved] == [10]
    staged = saved[0]["dir"]
    assert os.path.basename(staged) == "step-000010"
    # a full checkpoint: adapter, optimizer, scheduler, RNG and the trainer's state, as transformers writes it
    names = set(os.listdir(staged))
    assert {"adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json"} <= names, names
    assert any(n.startswith("rng_state") for n in names), names

    resumed = Child(model, dataset, str(tmp_path / "second"), resume=staged)
    assert resumed.code == 0, "\n".join(resumed.lines[-30:])
    assert any("resuming from" in line for line in resumed.lines)
    after = resumed.losses()
    assert sorted(after) == list(range(11, 21)), "the step count continues from the checkpoint"

    whole = Child(model, dataset, str(tmp_path / "whole"))
    assert whole.code == 0, "\n".join(whole.lines[-30:])
    straight = whole.losses()
    assert sorted(straight) == list(range(1, 21))
    # the curve continues where it was cut (not a restart from the base model's loss): step by step the
    # uninterrupted run's, the learning rate schedule and the data order included
    print("step  killed+resumed  uninterrupted")
    for step in range(1, 21):
        got = first.losses().get(step) if step <= 10 else after[step]
        print(f"{step:4d}  {got:14.4f}  {straight[step]:13.4f}")
    for step in range(11, 21):
        assert after[step] == pytest.approx(straight[step], rel=2e-3, abs=2e-3), step
    assert after[11] != pytest.approx(first.losses()[1], abs=1e-2), "not a restart from the base model"
    lr = {e["step"]: e.get("learning_rate") for e in resumed.events if e.get("type") == "progress"}
    lr_whole = {e["step"]: e.get("learning_rate") for e in whole.events if e.get("type") == "progress"}
    assert lr[11] == pytest.approx(lr_whole[11]) and lr[20] == pytest.approx(lr_whole[20])
