"""Issue 26 items 1, 2 and 6 trained for real on the CPU with the tiny Llama (tests/tiny_model.py), through the seam
as the trainer child drives it: the eval loss is reported and falls, early stopping ends a run and keeps the best
adapter, packing computes on real tokens only (and packed rows never see each other), and tool-call rows train
with the loss on the assistant's turns only. Needs the trainer venv; run with OMP_NUM_THREADS=2."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from typing import Any

import pytest
import tiny_model
from test_real_training import MISSING, Recorder, tokenizer, walk

from trainpod_agent.ml import data
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.real import RealML
from trainpod_agent.ml.seam import RunSpec

pytestmark = [pytest.mark.real, pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)}")]
BASE = {"batch_size": 4, "gradient_accumulation_steps": 1, "max_seq_length": 128, "lora_r": 32, "lora_alpha": 64}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_model.build(str(tmp_path_factory.mktemp("model") / "tiny-llama"))


def train(model: str, out: str, rows: list[dict[str, Any]], **hp: Any) -> dict[str, Any]:
    spec = RunSpec("", out, model, hyperparameters(json.dumps(dict(BASE, **hp))), rows, "chat")
    report, log, ml = Recorder(), io.StringIO(), RealML()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        files = walk(ml, spec, report)
    evals = [(p["step"], p["eval_loss"]) for p in report.progress_reports if "eval_loss" in p]
    return {"files": files, "report": report, "log": log.getvalue(), "evals": evals, "ml": ml, "out": out}


def test_the_eval_loss_is_reported_every_eval_steps_and_falls(model: str, tmp_path: Any) -> None:
    rows = tiny_model.rows("chat", 40)
    run = train(model, str(tmp_path), rows, steps=12, learning_rate=0.005, eval_fraction=0.2, eval_steps=4)
    report = run["report"]
    assert report.phases["tokenize"].data | {"train_rows": 32, "eval_rows": 8} == report.phases["tokenize"].data
    assert [p["step"] for p in report.progress_reports] == list(range(1, 13))  # one report a step, evals included
    assert [s for s, _ in run["evals"]] == [4, 8, 12]
    losses = [e for _, e in run["evals"]]
    assert losses[-1] < losses[0] - 0.1, losses  # 5.28 -> 5.03 measured
    facts = report.phases["train"].data
    assert facts["eval_loss"] == pytest.approx(losses[-1], abs=1e-6) and facts["train_loss"] > 0
    assert "stopped_early" not in facts
    assert "eval set: 8 rows held out (seed 42)" in run["log"]
    assert "eval_loss" in [line for line in run["log"].splitlines() if line.startswith("step 4/12 loss ")][0]


def noisy_rows(n: int) -> list[dict[str, Any]]:
    """Rows whose colours are drawn at random: nothing to learn but noise, so the eval loss soon rises."""
    rng, rows = random.Random(0), tiny_model.rows("chat", n)
    for r in rows:
        thing = r["messages"][1]["content"].split()[-1].rstrip("?")
        r["messages"][2]["content"] = f"The {thing} is {rng.choice(tiny_model.COLOURS)}."
    return rows


def test_early_stopping_ends_the_run_keeps_the_best_adapter_and_says_what_it_saved(model: str, tmp_path: Any) -> None:
    hp = {"eval_fraction": 0.25, "eval_steps": 2, "early_stopping_patience": 2, "early_stopping_threshold": 0.005}
    run = train(model, str(tmp_path), noisy_rows(48), steps=60, learning_rate=0.05, **hp)
    facts, evals = run["report"].phases["train"].data, run["evals"]
    stopped = evals[-1][0]
    assert 4 <= stopped < 60 and facts["stopped_early"] == 1 and run["report"].progress_reports[-1]["step"] == stopped
    assert facts["steps_saved"] == 60 - stopped and facts["seconds_saved"] > 0
    best_step, best = min(evals, key=lambda e: e[1])
    assert (facts["best_step"], facts["eval_loss"]) == (best_step, pytest.approx(best, abs=1e-6))
    # the last two evals did not beat the best by the threshold: what stopped it
    assert all(e > best - 0.005 for _, e in evals[-2:]) and best_step <= stopped
    line = f"early stopping: the eval loss did not improve for 2 evals; stopped at step {stopped} of 60, "
    assert line in run["log"] and f"the adapter saved is the best one (step {best_step}" in run["log"]
    # the trainer's checkpoints stayed out of the artifacts; the adapter saved is the best one's
    assert not [f for f in run["files"] if "checkpoint" in f] and "adapter_model.safetensors" in run["files"]
    trainer = run["ml"].trainer
    assert trainer.state.best_global_step == best_step
    assert trainer.evaluate()["eval_loss"] == pytest.approx(best, abs=1e-5)


def test_packed_rows_attend_only_within_themselves(model: str) -> None:
    """Padding-free batches (packing's) flatten the rows into one sequence: each row's logits must be those it has
    alone (transformers builds the block mask from the position ids; trl's forward has no cache)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tok, _ = tokenizer(model)
    lm = AutoModelForCausalLM.from_pretrained(model)
    examples = [data.build_example(tok, r, 256, True) for r in tiny_model.spread_rows(4, seed=3)]
    batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)(examples)
    assert batch["input_ids"].shape == (1, sum(len(e["input_ids"]) for e in examples))  # no padding at all
    with torch.no_grad():
        flat = lm(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits[0]
        start = 0
        for e in examples:
            alone = lm(input_ids=torch.tensor([e["input_ids"]]), use_cache=False).logits[0]
            assert torch.allclose(flat[start : start + len(e["input_ids"])], alone, atol=1e-5)
            start += len(e["input_ids"])


def test_packing_trains_on_at_least_95_percent_real_tokens(model: str, tmp_path: Any) -> None:
    rows = tiny_model.spread_rows(48)
    run = train(model, str(tmp_path), rows, steps=4, learning_rate=0.005, max_seq_length=256, packing=True)
    facts = run["report"].phases["train"].data
    assert facts["real_token_share"] >= 0.95 and facts["tokens_real"] <= facts["tokens_total"]
    # 4 steps of 4 packed sequences of up to 256 tokens: more real tokens than 4 x 4 rows could hold (~110 each)
    assert facts["tokens_real"] > 4 * 4 * 150
    assert "% real, " in run["log"] and len(run["report"].progress_reports) == 4
    assert "note: packing flattens batch_size 4 sequences of max_seq_length into one" in run["log"]


def test_tool_call_rows_train_with_the_loss_on_the_assistants_turns_only(model: str, tmp_path: Any) -> None:
    tok, _ = tokenizer(model)
    row = tiny_model.tool_rows(1)[0]
    ex = data.build_example(tok, row, 512, True)
    turns: list[list[int]] = [[]]
    for token, label in zip(ex["input_ids"], ex["labels"], strict=True):
        if label != data.IGNORE:
            turns[-1].append(token)
        elif turns[-1]:
            turns.append([])
    assert [tok.decode(t) for t in turns if t] == [
        '<call>{"name": "lookup_colour", "arguments": {"thing": "apple"}}</call></s>',
        "The apple is red.</s>",
    ]
    masked = tok.decode([t for t, label in zip(ex["input_ids"], ex["labels"], strict=True) if label == data.IGNORE])
    assert '{"colour": "red"}' in masked and "What colour is the apple?" in masked and "Tools: [" in masked
    run = train(model, str(tmp_path), tiny_model.tool_rows(8), steps=4, learning_rate=0.005, max_seq_length=512)
    assert [p["step"] for p in run["report"].progress_reports] == list(range(1, 5))
    assert os.path.isfile(os.path.join(run["out"], "adapter_model.safetensors"))
    assert run["report"].phases["tokenize"].data["rows"] == 8
