"""Two trainer processes for real (issue 26 item 4): the whole agent on a "2-GPU pod" with no GPU, so torchrun
starts two ranks that train the tiny Llama with DDP over gloo on the CPU, against the fake trainpod API. Both ranks
train (each says so in the log), one set of events is sent, one adapter is saved and uploaded. Needs the trainer
venv (scripts/trainer-venv.sh); about a minute on two busy cores."""

from __future__ import annotations

import collections
import importlib.util
import json
import os

import pytest
import tiny_model
from test_main import run_agent

MISSING = [n for n in ("torch", "transformers", "peft", "trl", "datasets") if importlib.util.find_spec(n) is None]
pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)} (scripts/trainer-venv.sh)"),
]
HP = {
    "steps": 3,
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "max_seq_length": 32,
    "learning_rate": 0.005,
    "lora_r": 4,
    "lora_alpha": 8,
    "target_modules": ["q_proj", "v_proj"],
    "tokenize_num_proc": 1,
}


def test_two_ranks_train_with_ddp_and_rank_0_alone_reports_and_saves(api, tmp_path) -> None:
    model = tiny_model.build(str(tmp_path / "tiny-llama"))
    env = {"TRAINPOD_GPU_COUNT": "2", "TRAINPOD_ML": "real", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "TRAINPOD_BASE_MODEL": model}
    code, output = run_agent(api, tmp_path / "volume", HP, env, timeout=600)
    assert code == 0, output[-6000:]
    events = [e for e in api.events() if e["type"] != "heartbeat"]
    logs = [line for e in events if e["type"] == "log" for line in e["lines"]]
    text = "\n".join(logs)
    assert "launch: torchrun --standalone --nproc-per-node 2 (DDP" in text
    # each rank trained the 3 steps on its half of each batch, and says so
    for rank in (0, 1):
        assert f"rank {rank} of 2: trained 3 steps on cpu" in text, text[-4000:]
    # one set of events: each phase once, each step once, one outcome
    started = [e["phase"] for e in events if e["type"] == "phase" and e["state"] == "started"]
    assert started == ["setup", "dataset_download", "model_download", "load", "tokenize", "train", "save", "upload"]
    assert [e["step"] for e in events if e["type"] == "progress"] == [1, 2, 3]
    assert [e["type"] for e in events if e["type"] in ("completed", "failed")] == ["completed"]
    # rank 0 alone prints to stdout (each rank loaded the model; one line says so)
    assert sum(1 for line in logs if "step 3/3 loss" in line) == 1, text[-4000:]
    assert sum(1 for line in logs if "model loaded:" in line) == 1, text[-4000:]
    [train] = [e for e in events if e.get("phase") == "train" and e["state"] == "ended"]
    assert (train["processes"], train["global_batch"]) == (2, 4)
    assert "2 rows per device × 1 accumulation steps × 2 process(es) = 4 rows per optimizer step (ddp)" in text
    # the tokens of both ranks' batches: each rank saw 3 batches of 2 rows
    assert train["tokens_real"] > 0 and train["tokens_total"] >= train["tokens_real"]
    # one adapter, written once (rank 0) and uploaded once
    puts = collections.Counter(s.path.split("?")[0] for s in api.seen if s.method == "PUT")
    outputs = collections.Counter(p.rsplit("/", 1)[-1] for p in puts if "checkpoints" not in p)
    assert outputs["adapter_model.safetensors"] == 1 and outputs["adapter_config.json"] == 1, puts
    # rank 0 alone saves and uploads the checkpoints too (on by default): every file once, none from rank 1
    assert any("checkpoints" in p for p in puts) and all(n == 1 for n in puts.values()), puts
    out = tmp_path / "volume" / "fine_tuned_model"
    assert sorted(p.name for p in out.rglob("adapter_model*")) == ["adapter_model.safetensors"]
    [save] = [e for e in events if e.get("phase") == "save" and e["state"] == "ended"]
    assert save["files"] == len(os.listdir(out))
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4
