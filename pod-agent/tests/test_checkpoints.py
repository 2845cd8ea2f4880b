"""Issue 27's parts without an ML library: when checkpoints are saved (the arguments, the minutes by the fake clock,
a save skipped by "best" asked again), the staging by hard links, the background upload (manifest last) and the
download of the checkpoint a resumed attempt starts from, against the fake API over HTTP."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from types import SimpleNamespace
from typing import Any

import pytest
from fake_api import FakeApi

from trainpod_agent.checkpoint_upload import CheckpointUploader, download_checkpoint
from trainpod_agent.clock import FakeClock
from trainpod_agent.http import RetryPolicy
from trainpod_agent.ml import checkpoints
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.run_client import RunClient
from trainpod_agent.transfer.common import TransferError

HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def hp(**given: Any) -> dict[str, Any]:
    return hyperparameters(json.dumps(given))


def test_the_arguments_by_default_off_minutes_only_and_with_early_stopping() -> None:
    assert checkpoints.training_arguments(hp(), False) == {
        "save_strategy": "steps",
        "save_steps": 0.1,
        "save_total_limit": 2,
    }
    assert checkpoints.training_arguments(hp(checkpoint_every_steps=50, checkpoints_kept=3), False)["save_steps"] == 50
    assert checkpoints.training_arguments(hp(checkpoint_every_steps=0), False) == {}
    assert checkpoints.training_arguments(hp(checkpoint_every_steps=0, checkpoint_every_minutes=5), False) == {
        "save_strategy": "no",
        "save_total_limit": 2,
    }
    assert checkpoints.training_arguments(hp(), True) == {"save_only_model": False, "save_total_limit": 3}
    assert (checkpoints.every_minutes(hp()), checkpoints.every_minutes(hp(checkpoint_every_steps=0))) == (30.0, None)
    assert (checkpoints.every_steps(hp(), 95), checkpoints.every_steps(hp(checkpoint_every_steps=7), 95)) == (10, 7)
    assert checkpoints.step_folder(120) == "checkpoints/step-000120"


class Report:
    def __init__(self) -> None:
        self.announced: list[tuple[int, str]] = []

    def checkpoint(self, step: int, folder: str) -> None:
        self.announced.append((step, folder))


@pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers is not importable (the trainer venv)")
def test_the_callback_saves_by_the_clock_and_asks_again_for_a_skipped_save(tmp_path: Any, monkeypatch: Any) -> None:
    clock, report = FakeClock(), Report()
    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setenv(checkpoints.STAGING_ENV, str(staging))
    cb = checkpoints.checkpoint_callback(hp(checkpoint_every_minutes=10), report, clock, by_steps=True)
    state = SimpleNamespace(global_step=0, max_steps=100, is_world_process_zero=True)
    args = SimpleNamespace(output_dir=str(tmp_path / "out"))
    control = SimpleNamespace(should_save=False)
    cb.on_train_begin(args, state, control)

    def step(n: int, minutes: float = 0) -> bool:
        clock.advance(minutes * 60)
        state.global_step, control.should_save = n, False
        cb.on_step_end(args, state, control)
        return control.should_save

    assert not step(1, 9.9)
    assert step(2, 0.2)  # 10 minutes since the start
    assert step(3)  # the trainer did not save (an eval without a new best): asked again
    folder = tmp_path / "out" / "checkpoint-3"
    folder.mkdir(parents=True)
    (folder / "optimizer.pt").write_bytes(b"x" * 10)
    cb.on_save(args, state, control)
    assert not step(4, 5)
    assert step(10)  # every tenth of 100 steps (by_steps: the "best" strategy saves nothing by steps)
    assert report.announced == [(3, str(staging / "step-000003"))]
    staged = staging / "step-000003" / "optimizer.pt"
    assert os.stat(staged).st_ino == os.stat(folder / "optimizer.pt").st_ino  # a hard link: no bytes copied
    (folder / "optimizer.pt").unlink()  # transformers' rotation deletes the folder: the staged copy stays
    assert staged.read_bytes() == b"x" * 10


def client_of(api: FakeApi, tmp_path: Any) -> RunClient:
    base = api.url + "/v1/runs/d1"
    return RunClient(
        base + "/events", base + "/artifacts", "tp_run_x", FakeClock(), str(tmp_path / "state"), RetryPolicy(1, 0)
    )


def test_the_upload_goes_up_in_the_background_with_the_manifest_last(api: FakeApi, tmp_path: Any) -> None:
    api.script["/v1/runs/d1/artifacts"] = [(201, {"mode": "api", "partSizeBytes": 0, "partCount": 1})]
    lines: list[str] = []
    uploader = CheckpointUploader(
        client_of(api, tmp_path), FakeClock(), RetryPolicy(1, 0), lines.append, str(tmp_path / "state")
    )
    staged = tmp_path / "state" / "checkpoint-staging" / "step-000010"
    staged.mkdir(parents=True)
    (staged / "adapter_model.safetensors").write_bytes(b"a" * 100)
    (staged / "optimizer.pt").write_bytes(b"o" * 50)
    uploader.offer(10, str(staged))
    uploader.close(wait_s=10)
    assert uploader.uploaded == [10], lines
    declared = [s.json()["path"] for s in api.seen if s.path == "/v1/runs/d1/artifacts"]
    assert declared == [
        "checkpoints/step-000010/adapter_model.safetensors",
        "checkpoints/step-000010/optimizer.pt",
        "checkpoints/step-000010/trainpod-checkpoint.json",
    ]
    manifest = [s for s in api.seen if s.method == "PUT" and s.path.endswith("trainpod-checkpoint.json")][0].json()
    assert manifest["step"] == 10
    assert [f["path"] for f in manifest["files"]] == ["adapter_model.safetensors", "optimizer.pt"]
    assert manifest["files"][1]["sha256"] == hashlib.sha256(b"o" * 50).hexdigest()
    assert not staged.exists()  # the staging is removed once it is up


def test_a_failed_checkpoint_upload_is_logged_never_raised(api: FakeApi, tmp_path: Any) -> None:
    api.script["/v1/runs/d1/artifacts"] = [(413, {"error": {"code": "ARTIFACT_QUOTA_EXCEEDED"}})]
    lines: list[str] = []
    uploader = CheckpointUploader(
        client_of(api, tmp_path), FakeClock(), RetryPolicy(0, 0), lines.append, str(tmp_path / "state")
    )
    staged = tmp_path / "staged" / "step-000005"
    staged.mkdir(parents=True)
    (staged / "optimizer.pt").write_bytes(b"o")
    uploader.offer(5, str(staged))
    uploader.close(wait_s=10)
    assert uploader.uploaded == []
    assert any("checkpoint at step 5 not uploaded" in line for line in lines), lines


def test_the_resumed_attempt_downloads_its_checkpoint_and_checks_each_sha256(api: FakeApi, tmp_path: Any) -> None:
    body = b"weights" * 100
    plan = {
        "path": "checkpoints/step-000010",
        "step": 10,
        "files": [
            {
                "path": "adapter_model.safetensors",
                "sizeBytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "url": "/v1/runs/d1/resume/files/adapter_model.safetensors",
            }
        ],
    }
    api.script["/v1/runs/d1/resume"] = [(200, plan)]
    api.script["/v1/runs/d1/resume/files/adapter_model.safetensors"] = [(200, body)]
    lines: list[str] = []
    step, folder = download_checkpoint(
        client_of(api, tmp_path), "tp_run_x", FakeClock(), RetryPolicy(0, 0), lines.append, str(tmp_path / "resume")
    )
    assert (step, os.path.basename(folder)) == (10, "checkpoint-10")
    with open(os.path.join(folder, "adapter_model.safetensors"), "rb") as f:
        assert f.read() == body
    assert all(s.headers.get("authorization") == "Bearer tp_run_x" for s in api.seen)

    api.script["/v1/runs/d1/resume/files/adapter_model.safetensors"] = [(200, b"tampered")]
    with pytest.raises(TransferError, match="does not match its sha256"):
        download_checkpoint(
            client_of(api, tmp_path), "tp_run_x", FakeClock(), RetryPolicy(0, 0), lines.append, str(tmp_path / "again")
        )
