"""DPO (issue 26 item 5) trained for real on the CPU with the tiny Llama (tests/tiny_model.py), through the seam as
the trainer child drives it: each step reports trl's reward margin, the margin grows from 0 (the adapter starts as
the reference), one adapter is saved, and that adapter prefers the chosen answers more than the base model does.
Needs the trainer venv; run with OMP_NUM_THREADS=2."""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
from typing import Any

import pytest
import tiny_model
from test_real_training import MISSING, Recorder, walk

from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.real import RealML
from trainpod_agent.ml.seam import RunSpec

pytestmark = [pytest.mark.real, pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)}")]
HP = {
    "method": "dpo",
    "batch_size": 4,
    "gradient_accumulation_steps": 1,
    "max_seq_length": 128,
    "lora_r": 32,
    "lora_alpha": 64,
    "learning_rate": 0.005,
    "seed": 42,
}


def preference_rows(fmt: str, n: int = 32) -> list[dict[str, Any]]:
    """n rows: the colour of a thing, chosen the right colour, rejected a wrong one (in chat form with a system
    message and extra keys the API accepts)."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        thing, colour = tiny_model.THINGS[i % 8], tiny_model.COLOURS[i % 8]
        question, wrong = f"What colour is the {thing}?", tiny_model.COLOURS[(i + 3) % 8]
        chosen, rejected = f"The {thing} is {colour}.", f"The {thing} is {wrong}."
        if fmt == "preference":
            out.append({"id": i, "prompt": question, "chosen": chosen, "rejected": rejected})
        else:
            out.append(
                {
                    "prompt": [
                        {"role": "system", "content": "Answer in one sentence."},
                        {"role": "user", "content": question, "name": "tester"},
                    ],
                    "chosen": [{"role": "assistant", "content": chosen}],
                    "rejected": [{"role": "assistant", "content": rejected}],
                }
            )
    return out


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_model.build(str(tmp_path_factory.mktemp("model") / "tiny-llama"))


def train(model: str, out: str, fmt: str, rows: int = 32, **hp: Any) -> dict[str, Any]:
    spec = RunSpec("", out, model, hyperparameters(json.dumps(dict(HP, **hp))), preference_rows(fmt, rows), fmt)
    report, log = Recorder(), io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        files = walk(RealML(), spec, report)
    return {"files": files, "report": report, "log": log.getvalue(), "out": out}


@pytest.fixture(scope="module")
def chat_run(model: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return train(model, str(tmp_path_factory.mktemp("dpo-chat")), "preference_chat", steps=40)


def test_dpo_trains_and_the_chosen_rejected_margin_grows(chat_run: dict[str, Any]) -> None:
    reports = chat_run["report"].progress_reports
    assert [p["step"] for p in reports] == list(range(1, 41))
    margins = [p["reward_margin"] for p in reports]
    assert abs(margins[0]) < 1e-6  # step 1: the adapter is zero, the policy is the reference
    first, last = statistics.mean(margins[:8]), statistics.mean(margins[-8:])
    assert last > 0.1 and last > first + 0.08, (first, last, margins)
    losses = [p["loss"] for p in reports]
    assert losses[0] == pytest.approx(0.6931, abs=1e-3) and statistics.mean(losses[-8:]) < 0.66  # -log sigmoid(0)
    facts = chat_run["report"].phases["train"].data
    assert facts["reward_margin"] == pytest.approx(margins[-1], abs=1e-5) and facts["reward_margin_first"] == 0
    assert facts["reward_accuracy"] >= 0.75 and facts["train_loss"] < 0.6931
    assert f"dpo: reward margin 0.0000 at the first step, {margins[-1]:.4f} at the last" in chat_run["log"]
    assert f"step 40/40 loss {losses[-1]:.4f} reward_margin {margins[-1]:.4f}" in chat_run["log"]


def test_one_adapter_is_saved_and_it_prefers_the_chosen_answers_more_than_the_base(
    model: str, chat_run: dict[str, Any]
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, files = chat_run["out"], chat_run["files"]
    assert [f for f in files if f.startswith("adapter_")] == ["adapter_config.json", "adapter_model.safetensors"]
    assert not [f for f in files if "checkpoint" in f or f.startswith("merged")]
    with open(os.path.join(out, "adapter_config.json")) as f:
        assert json.load(f)["peft_type"] == "LORA"
    tok = AutoTokenizer.from_pretrained(out)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model), out).eval()

    def logp(m: Any, prompt: list[dict[str, str]], answer: list[dict[str, str]]) -> float:
        """The log-probability of the answer's tokens after the prompt."""
        head = tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        whole = tok.apply_chat_template(prompt + answer, tokenize=False)
        ids = tok(whole, add_special_tokens=False, return_tensors="pt")["input_ids"]
        start = len(tok(head, add_special_tokens=False)["input_ids"])
        with torch.no_grad():
            logits = m(input_ids=ids).logits[0, :-1].log_softmax(-1)
        picked = logits.gather(1, ids[0, 1:, None])[:, 0]
        return float(picked[start - 1 :].sum())

    def preference(m: Any) -> float:
        rows = preference_rows("preference_chat", 8)
        return statistics.mean(logp(m, r["prompt"], r["chosen"]) - logp(m, r["prompt"], r["rejected"]) for r in rows)

    with tuned.disable_adapter():
        base = preference(tuned)
    assert preference(tuned) > base + 0.5, (base, preference(tuned))


def test_string_preference_rows_train_through_the_chat_template_with_an_eval_set(model: str, tmp_path: Any) -> None:
    run = train(model, str(tmp_path), "preference", rows=40, steps=6, eval_fraction=0.2, eval_steps=3, dpo_beta=0.5)
    reports = run["report"].progress_reports
    assert [p["step"] for p in reports] == list(range(1, 7))
    assert all("reward_margin" in p for p in reports)
    assert [p["step"] for p in reports if "eval_loss" in p] == [3, 6]
    assert (
        run["report"].phases["tokenize"].data | {"train_rows": 32, "eval_rows": 8}
        == run["report"].phases["tokenize"].data
    )
    assert "adapter_model.safetensors" in run["files"]
