"""The real ML work's helpers that run without the ML libraries: the step reports, out of memory, the training
arguments, the model download's choices and errors, the save's bookkeeping, the tokenizing processes."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest
from recorders import RecordedPhase as Phase

from trainpod_agent.ml import callbacks, real, real_fetch, real_tokenize, real_train, save
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.seam import ModelAccessError, OutOfMemory


class Tensor:
    def __init__(self, value: float) -> None:
        self.value = value

    def item(self) -> float:
        return self.value


def test_step_report_has_the_loss_and_the_metrics_there_are() -> None:
    logs = {"loss": 1.5, "learning_rate": 2e-4, "grad_norm": Tensor(0.25), "epoch": 0.1}
    assert callbacks.step_report(3, 10, logs) == {
        "step": 3,
        "total_steps": 10,
        "loss": 1.5,
        "learning_rate": 2e-4,
        "grad_norm": 0.25,
    }
    assert callbacks.step_report(1, -1, {"loss": 2}) == {"step": 1, "total_steps": None, "loss": 2.0}
    assert callbacks.step_report(24, 24, {"train_loss": 4.9, "train_runtime": 1.0}) is None
    assert callbacks.step_report(5, 24, {"loss": 1.0, "grad_norm": float("nan")}) == {
        "step": 5,
        "total_steps": 24,
        "loss": 1.0,
    }
    assert callbacks.step_report(5, 24, {"loss": float("inf")}) is None


def test_set_phase_total_sets_a_known_total_only() -> None:
    phase = Phase()
    callbacks.set_phase_total(phase, None)
    callbacks.set_phase_total(phase, 0)
    assert phase.total is None
    callbacks.set_phase_total(phase, 24)
    assert phase.total == 24


@pytest.mark.parametrize(
    "err",
    [
        RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported"),
        MemoryError(),
        type("OutOfMemoryError", (RuntimeError,), {})("Allocation on device"),
    ],
)
def test_out_of_memory_becomes_the_seams(err: BaseException) -> None:
    with pytest.raises(OutOfMemory) as caught, real.memory_errors():
        raise err
    assert caught.value.__cause__ is err and str(caught.value).startswith("out of memory")
    assert "\n" not in str(caught.value)


def test_other_errors_pass_through_memory_errors() -> None:
    for err in (RuntimeError("shapes do not match"), ValueError("out of memory, says a ValueError")):
        with pytest.raises(type(err)) as caught, real.memory_errors():
            raise err
        assert caught.value is err
    already = OutOfMemory("out of memory: x")
    with pytest.raises(OutOfMemory) as caught, real.memory_errors():
        raise already
    assert caught.value is already


def test_training_arguments_save_memory() -> None:
    """issue 15, finding 3: checkpointing without reentrancy, bf16 on a GPU that has it."""
    gpu = real_train.training_arguments(hyperparameters('{"steps": 5}'), "/out", bf16=True, cuda=True)
    assert (gpu["activation_checkpointing"], gpu["activation_checkpointing_kwargs"]) == (True, {"use_reentrant": False})
    assert (gpu["bf16"], gpu["use_cpu"], gpu["max_steps"], gpu["max_length"]) == (True, False, 5, 1024)
    # checkpoints are on by default (issue 27): every tenth of the run, the last two kept
    assert (gpu["save_strategy"], gpu["save_steps"], gpu["save_total_limit"]) == ("steps", 0.1, 2)
    assert (gpu["report_to"], gpu["logging_steps"]) == ([], 1)
    cpu = real_train.training_arguments(hyperparameters("{}"), "/out", bf16=False, cuda=False)
    assert (cpu["bf16"], cpu["use_cpu"], cpu["max_steps"], cpu["disable_tqdm"]) == (False, True, -1, True)


def test_library_versions_names_each_library() -> None:
    text = real.library_versions()
    assert [part.split(" ")[0] for part in text.split(", ")] == list(real.LIBRARIES)


def test_the_download_skips_other_formats_and_pickles_beside_safetensors() -> None:
    llama = {
        "config.json": 10,
        "model-00001-of-00002.safetensors": 100,
        "model-00002-of-00002.safetensors": 50,
        "original/consolidated.00.pth": 150,
        "pytorch_model.bin": 150,
        "tokenizer.json": 5,
        ".gitattributes": 1,
        "onnx/model.onnx": 99,
    }
    assert real_fetch.kept(llama, real_fetch.ignore_patterns(list(llama))) == {
        "config.json": 10,
        "model-00001-of-00002.safetensors": 100,
        "model-00002-of-00002.safetensors": 50,
        "tokenizer.json": 5,
    }
    mistral = {"consolidated.safetensors": 14, "model-00001-of-00001.safetensors": 14, "params.json": 1}
    assert real_fetch.kept(mistral, real_fetch.ignore_patterns(list(mistral))) == {
        "model-00001-of-00001.safetensors": 14,
        "params.json": 1,
    }
    old = {"config.json": 10, "pytorch_model.bin": 150}
    assert real_fetch.kept(old, real_fetch.ignore_patterns(list(old))) == old


def test_a_local_model_directory_is_its_bytes(tmp_path: Any) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(b"x" * 100)
    phase = Phase()
    assert real_fetch.fetch(str(tmp_path), phase) == str(tmp_path)
    assert (phase.total, phase.done, phase.data) == (102, [102], {"bytes": 102, "files": 2, "source": "local"})


@pytest.mark.skipif(importlib.util.find_spec("huggingface_hub") is None, reason="huggingface_hub is not importable")
def test_hub_errors_that_mean_no_access_are_model_access_errors() -> None:
    import httpx2
    from huggingface_hub import errors as e

    def answer(status: int) -> Any:
        return httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/api/models/x/y"))

    cases = [
        (e.GatedRepoError("403 Client Error.\nCannot access gated repo", response=answer(403)), "is gated"),
        (e.RepositoryNotFoundError("401 Client Error.", response=answer(401)), "was not found on the hub"),
        (e.HfHubHTTPError("403 Forbidden", response=answer(403)), "the hub answered 403"),
        (e.LocalEntryNotFoundError("no cache"), "the hub is unreachable"),
        (e.HFValidationError("Repo id must be ..."), "neither a local directory nor a valid hub id"),
    ]
    for err, why in cases:
        refused = real_fetch.access_error("x/y", err)
        assert isinstance(refused, ModelAccessError) and why in str(refused) and "\n" not in str(refused)
    assert real_fetch.access_error("x/y", e.HfHubHTTPError("500", response=answer(500))) is None
    assert real_fetch.access_error("x/y", OSError("No space left on device")) is None


def test_shard_size_is_in_mib_and_the_default_is_below_the_artifact_cap() -> None:
    assert save.shard_size(hyperparameters('{"max_shard_size_mb": 3}')) == 3 * 1024 * 1024
    assert save.shard_size(hyperparameters("{}")) == 4 * 1024**3 < 5 * 1024**3  # ARTIFACT_MAX_BYTES' default


def test_written_since_lists_new_and_changed_files(tmp_path: Any) -> None:
    (tmp_path / "old").write_text("a")
    (tmp_path / "kept").write_text("k")
    before = save._files(str(tmp_path))
    (tmp_path / "old").write_text("bb")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "new").write_text("n")
    assert save.written_since(str(tmp_path), before) == ["d/new", "old"]


def test_tokenize_processes_fit_the_rows() -> None:
    assert real_tokenize.processes(32, None) == 1
    assert real_tokenize.processes(100_000, 2) == 2
    assert real_tokenize.processes(3000, 8) == 2
    assert real_tokenize.processes(1_000_000, None) == min(8, os.cpu_count() or 1)


@pytest.mark.skipif(importlib.util.find_spec("huggingface_hub") is None, reason="huggingface_hub is not importable")
def test_a_hub_model_lands_in_the_cache_its_bytes_reported_as_they_come(tmp_path: Any, monkeypatch: Any) -> None:
    import time
    from types import SimpleNamespace

    import huggingface_hub
    from huggingface_hub import HfApi

    files = {"config.json": 10, "model.safetensors": 1000, "pytorch_model.bin": 1000, "original/c.pth": 5}
    siblings = [SimpleNamespace(rfilename=n, size=s) for n, s in files.items()]
    monkeypatch.setattr(HfApi, "model_info", lambda self, repo, files_metadata: SimpleNamespace(siblings=siblings))
    asked: dict[str, Any] = {}

    def snapshot_download(repo_id: str, cache_dir: str, ignore_patterns: list[str]) -> str:
        asked.update(repo=repo_id, ignore=ignore_patterns)
        folder = tmp_path / "models--org--tiny"
        (folder / "blobs").mkdir(parents=True)
        (folder / "snapshots" / "abc").mkdir(parents=True)
        for name in ("config.json", "model.safetensors"):
            (folder / "blobs" / name).write_bytes(b"x" * files[name])
            (folder / "snapshots" / "abc" / name).symlink_to(folder / "blobs" / name)
            time.sleep(0.05)  # the watch reports in between
        return str(folder / "snapshots" / "abc")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    phase = Phase()
    path = real_fetch.fetch("org/tiny", phase, cache_dir=str(tmp_path), every=0.01)
    assert path == str(tmp_path / "models--org--tiny" / "snapshots" / "abc")
    assert asked["repo"] == "org/tiny" and "*.bin" in asked["ignore"] and "original/*" in asked["ignore"]
    assert phase.total == 1010 and phase.done[-1] == 1010 and len(set(phase.done)) >= 2
    assert phase.data == {"bytes": 1010, "files": 2, "source": "hub"}


@pytest.mark.skipif(importlib.util.find_spec("huggingface_hub") is None, reason="huggingface_hub is not importable")
def test_a_hub_refusal_stops_the_download_and_no_api_is_no_total(tmp_path: Any, monkeypatch: Any) -> None:
    import httpx2
    import huggingface_hub
    from huggingface_hub import HfApi
    from huggingface_hub import errors as e

    answer = httpx2.Response(403, request=httpx2.Request("GET", "https://huggingface.co/api/models/org/gated"))

    def gated(*_a: Any, **_k: Any) -> Any:
        raise e.GatedRepoError("403 Client Error.", response=answer)

    monkeypatch.setattr(HfApi, "model_info", gated)
    with pytest.raises(ModelAccessError, match="base model org/gated is gated"):
        real_fetch.fetch("org/gated", Phase(), cache_dir=str(tmp_path))

    def down(*_a: Any, **_k: Any) -> Any:
        raise httpx2.ConnectError("connection refused")

    monkeypatch.setattr(HfApi, "model_info", down)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", gated)
    phase = Phase()
    with pytest.raises(ModelAccessError, match="is gated"):
        real_fetch.fetch("org/gated", phase, cache_dir=str(tmp_path))
    assert phase.total is None
