"""RealML trained for real on the CPU with the pinned libraries and a tiny Llama built here (issue 15), driven
through the seam as the trainer child drives it, with a Reporter that records. Needs the trainer venv
(scripts/trainer-venv.sh); run with OMP_NUM_THREADS=2."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
from typing import Any

import pytest
import tiny_model
from recorders import RecordedPhase, Recorder

from trainpod_agent.ml import data
from trainpod_agent.ml.child import run
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.real import RealML
from trainpod_agent.ml.seam import InputError, ModelAccessError, OutOfMemory, RunSpec

MISSING = [n for n in ("torch", "transformers", "peft", "trl", "datasets") if importlib.util.find_spec(n) is None]
pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"not importable: {', '.join(MISSING)} (the trainer venv: scripts/trainer-venv.sh)",
    ),
]
HP = {
    "steps": 24,
    "batch_size": 4,
    "gradient_accumulation_steps": 1,
    "learning_rate": 0.005,
    "max_seq_length": 128,
    "lora_r": 32,
    "lora_alpha": 64,
}
MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SHARD = "100KB"  # the tiny model's merged weights are ~230 kB in fp16: three shards


def walk(ml: RealML, spec: RunSpec, report: Recorder) -> list[str]:
    """The child's walk of the steps, each in its phase (ml/child.py's run)."""
    return run(spec, ml, report)  # type: ignore[arg-type]  (a Recorder records what Events would send)


def spec_of(model: str, out: str, fmt: str, rows: int = 32, **hp: Any) -> RunSpec:
    return RunSpec(
        dataset="",
        output_dir=out,
        base_model=model,
        hyperparameters=hyperparameters(json.dumps(hp)),
        rows=tiny_model.rows(fmt, rows),
        row_format=fmt,
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_model.build(str(tmp_path_factory.mktemp("model") / "tiny-llama"))


def tokenizer(model: str) -> tuple[Any, bool]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    return tok, data.prepare_tokenizer(tok)


def trained(model: str, out: str, fmt: str, **extra: Any) -> dict[str, Any]:
    spec, report, log = spec_of(model, out, fmt, **dict(HP, **extra)), Recorder(), io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        files = walk(RealML(max_shard_size=SHARD), spec, report)
    return {"out": out, "files": files, "report": report, "log": log.getvalue(), "fmt": fmt}


@pytest.fixture(scope="module")
def chat_run(model: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return trained(model, str(tmp_path_factory.mktemp("chat")), "chat", merge_adapter=True)


@pytest.fixture(scope="module")
def pc_run(model: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return trained(model, str(tmp_path_factory.mktemp("pc")), "prompt_completion", target_modules=MODULES)


def test_pad_is_not_eos_and_labels_keep_eos_and_mask_the_prompt(model: str) -> None:
    """finding 1: the model's pad token is EOS; labels must end with an unmasked EOS after the collator."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok, added = tokenizer(model)
    assert not added and tok.pad_token_id != tok.eos_token_id and tok.padding_side == "right"
    for fmt in ("chat", "prompt_completion"):
        rows = tiny_model.rows(fmt, 2)
        rows[1]["id"] = "a much longer row"
        examples = [data.build_example(tok, r, 128, True) for r in rows]
        batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)(examples)
        for i, ex in enumerate(examples):
            labels = batch["labels"][i].tolist()
            kept = [t for t in labels if t != -100]
            assert kept[-1] == tok.eos_token_id, fmt
            assert tok.decode(kept, skip_special_tokens=True).strip() == data.to_messages(rows[i])[-1]["content"]
            first = labels.index(kept[0])  # the prompt (system, user, the assistant header) is masked
            assert "<|assistant|>" in tok.decode(ex["input_ids"][:first])
            assert all(t == -100 for t in labels[:first])


def test_completion_only_loss_off_trains_on_everything(model: str) -> None:
    tok, _ = tokenizer(model)
    ex = data.build_example(tok, tiny_model.rows("chat", 1)[0], 128, False)
    assert ex["labels"] == ex["input_ids"]
    assert len(data.build_example(tok, tiny_model.rows("chat", 1)[0], 16, True)["input_ids"]) == 16


def check_trained(model: str, run: dict[str, Any]) -> tuple[Any, Any]:
    """The reports of a 24-step run, the falling loss, and the adapter that loads back and changes the output."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    report, log = run["report"], run["log"]
    assert "\r" not in log and "it/s]" not in log  # no progress bars in the pod's log
    assert re.search(r"^libraries: torch .*, trl 1\.", log, re.M) and f"adapter saved to {run['out']}" in log
    assert len([line for line in log.splitlines() if line.startswith("step ")]) == 24
    progress = report.progress_reports
    assert [p["step"] for p in progress] == list(range(1, 25))
    assert all(p["totalSteps"] == 24 and p["learning_rate"] > 0 and p["grad_norm"] >= 0 for p in progress)
    losses = [p["loss"] for p in progress]
    assert sum(losses[-4:]) / 4 < 0.93 * sum(losses[:4]) / 4, losses  # 5.7 -> ~4.9 measured
    train = report.phases["train"]
    assert (train.total, train.done) == (24, list(range(1, 25)))
    download = report.phases["model_download"]
    assert download.total == download.data["bytes"] > 0 and download.data["source"] == "local"
    assert report.phases["tokenize"].done[-1] == 32 and report.phases["tokenize"].data["rows"] == 32
    assert os.path.isfile(os.path.join(run["out"], "adapter_model.safetensors"))
    base = AutoModelForCausalLM.from_pretrained(model)
    tok, _ = tokenizer(model)
    ids = torch.tensor([data.build_example(tok, tiny_model.rows(run["fmt"], 1)[0], 128, False)["input_ids"]])
    before = base(ids).logits
    tuned = PeftModel.from_pretrained(base, run["out"])
    assert not torch.allclose(before, tuned(ids).logits)
    return ids, tuned


def test_chat_trains(model: str, chat_run: dict[str, Any]) -> None:
    check_trained(model, chat_run)


def test_merge_writes_shards_that_load_back_and_generate(model: str, chat_run: dict[str, Any]) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    ids, tuned = check_trained(model, chat_run)
    merged_dir = os.path.join(chat_run["out"], "merged")
    shards = sorted(f for f in os.listdir(merged_dir) if f.endswith(".safetensors"))
    assert len(shards) >= 2 and all(
        re.fullmatch(rf"model-\d{{5}}-of-{len(shards):05d}\.safetensors", s) for s in shards
    )
    with open(os.path.join(merged_dir, "model.safetensors.index.json")) as f:
        assert sorted(set(json.load(f)["weight_map"].values())) == shards
    assert all(os.path.getsize(os.path.join(merged_dir, s)) <= 100_000 + 10_000 for s in shards)  # + the header
    files = chat_run["files"]
    assert {"adapter_model.safetensors", "merged/model.safetensors.index.json", "merged/tokenizer.json"} <= set(files)
    assert {"merged/" + s for s in shards} <= set(files)
    save = chat_run["report"].phases["save"].data
    assert save["files"] == len(files) and save["shards"] == len(shards)
    assert save["bytes"] == sum(os.path.getsize(os.path.join(chat_run["out"], f)) for f in files)
    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    assert merged.dtype == torch.float16
    want = tuned.merge_and_unload()(ids).logits
    assert torch.allclose(merged.float()(ids).logits, want, atol=0.05)
    out = merged.float().generate(ids[:, :20], max_new_tokens=5, do_sample=False, pad_token_id=0)
    assert out.shape == (1, 25)


def test_prompt_completion_trains(model: str, pc_run: dict[str, Any]) -> None:
    check_trained(model, pc_run)
    assert (
        not os.path.exists(os.path.join(pc_run["out"], "merged"))
        and "shards" not in pc_run["report"].phases["save"].data
    )
    with open(os.path.join(pc_run["out"], "adapter_config.json")) as f:
        assert sorted(json.load(f)["target_modules"]) == sorted(MODULES)


@pytest.fixture(scope="module")
def loaded(model: str) -> RealML:
    ml = RealML()
    ml.load(spec_of(model, "", "chat"), RecordedPhase("load", None, None))
    return ml


def test_rows_with_nothing_to_train_on_are_skipped_and_none_left_is_the_users_error(
    model: str, loaded: RealML, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_of(model, "", "prompt_completion", max_seq_length=16)
    spec.rows = [{"prompt": "hi", "completion": "The sky is blue."}, {"prompt": "why " * 40, "completion": "no"}]
    phase = RecordedPhase("tokenize", 2, "rows")
    loaded.prepare_data(spec, phase)
    assert len(loaded.dataset) == 1 and phase.data["skipped"] == 1 and phase.done == [2]
    assert "warning: 1 row(s) have nothing to train on within max_seq_length 16: skipped" in capsys.readouterr().out
    spec.rows = spec.rows[1:]
    with pytest.raises(InputError, match="^no row has a completion within max_seq_length 16$"):
        loaded.prepare_data(spec, RecordedPhase("tokenize", 1, "rows"))


def test_tokenizing_in_two_processes_gives_the_same_examples(model: str, loaded: RealML) -> None:
    results = []
    for procs in (1, 2):
        spec = spec_of(model, "", "chat", rows=4000, tokenize_num_proc=procs)
        phase = RecordedPhase("tokenize", 4000, "rows")
        loaded.prepare_data(spec, phase)
        assert phase.data["processes"] == procs and phase.done[-1] == 4000
        results.append(loaded.dataset.to_dict())
    assert results[0] == results[1] and len(results[0]["input_ids"]) == 4000


def test_out_of_memory_in_training_is_the_seams_out_of_memory(
    model: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from trl import SFTTrainer

    def oom(*_a: Any, **_k: Any) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(SFTTrainer, "training_step", oom)
    ml, spec = RealML(), spec_of(model, str(tmp_path), "chat", steps=2)
    for step in (ml.fetch_model, ml.load, ml.prepare_data):
        step(spec, RecordedPhase("x", None, None))
    with pytest.raises(OutOfMemory, match="^out of memory: CUDA out of memory. Tried to allocate 20.00 GiB$") as err:
        ml.train(spec, Recorder(), RecordedPhase("train", None, None))
    assert isinstance(err.value.__cause__, torch.cuda.OutOfMemoryError)


def test_a_model_that_cannot_be_had_is_a_model_access_error(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    ml = RealML(cache_dir=str(tmp_path))
    with pytest.raises(ModelAccessError, match="neither a local directory nor a valid hub id"):
        ml.fetch_model(spec_of("not a/valid//id", "", "chat"), RecordedPhase("model_download", None, "bytes"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # no network in tests: the hub is "unreachable"
    with pytest.raises(ModelAccessError, match="the hub is unreachable and the model is not in the cache"):
        ml.fetch_model(spec_of("trainpod/no-such-model", "", "chat"), RecordedPhase("model_download", None, "bytes"))
