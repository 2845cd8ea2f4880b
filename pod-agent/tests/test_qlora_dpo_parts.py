"""Issue 26 items 3 and 5 without training: the quantization's hyperparameter rules and loading arguments, the
refusal of a quantized run without CUDA before any download (the trainer child end to end, exit code 2), the
preference rows and the method's formats, DPO's arguments and facts, the reward margin in the progress callback
and event, and the simulated ML's margins."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
from recorders import RecordedPhase as Phase

from trainpod_agent.clock import FakeClock
from trainpod_agent.ml import preference, quantization
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.reporter import Events
from trainpod_agent.ml.seam import InputError, RunSpec
from trainpod_agent.ml.simulated import SimulatedML
from trainpod_agent.vocabulary import EXIT_BAD_INPUT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS = {n: importlib.util.find_spec(n) is not None for n in ("torch", "transformers", "trl")}
ML = pytest.mark.skipif(not all(HAS.values()), reason="the trainer venv's libraries are not importable")


def hp(**given: Any) -> dict[str, Any]:
    return hyperparameters(json.dumps(given))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"quantization": "2bit"}, 'hyperparameter quantization must be one of none, 4bit, 8bit, got "2bit"'),
        ({"method": "ppo"}, 'hyperparameter method must be one of sft, dpo, got "ppo"'),
        ({"dpo_beta": 0.2}, "hyperparameter dpo_beta needs method dpo"),
        ({"method": "dpo", "dpo_beta": 0}, "hyperparameter dpo_beta must be between 0.001 and 10.0, got 0"),
        (
            {"method": "dpo", "packing": True},
            "hyperparameter packing true is not available with method dpo: trl's DPOTrainer does not pack",
        ),
        (
            {"quantization": "4bit", "merge_adapter": True},
            "hyperparameter merge_adapter true is not available with quantization 4bit: merge into the unquantized "
            "base model after the run",
        ),
    ],
)
def test_the_new_hyperparameters_refuse_with_a_reason(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        hp(**given)
    assert str(caught.value) == message


def test_the_defaults_are_sft_unquantized_and_trl_beta() -> None:
    got = hp()
    assert (got["method"], got["quantization"], got["dpo_beta"]) == ("sft", "none", None)
    assert quantization.quantized(got) is None and quantization.load_kwargs(got, True) == {}
    model = object()
    assert quantization.prepare(model, got) is model


@ML
def test_4bit_is_nf4_with_double_quantization_and_bf16_compute_on_this_processs_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setenv("LOCAL_RANK", "3")
    kw = quantization.load_kwargs(hp(quantization="4bit"), bf16=True)
    cfg = kw["quantization_config"]
    assert kw["device_map"] == {"": 3}
    assert (cfg.load_in_4bit, cfg.bnb_4bit_quant_type, cfg.bnb_4bit_use_double_quant) == (True, "nf4", True)
    assert cfg.bnb_4bit_compute_dtype == torch.bfloat16
    assert quantization.bnb_config("4bit", bf16=False).bnb_4bit_compute_dtype == torch.float16  # a T4, a V100
    eight = quantization.load_kwargs(hp(quantization="8bit"), bf16=True)["quantization_config"]
    assert eight.load_in_8bit and not eight.load_in_4bit


@ML
@pytest.mark.skipif(HAS["torch"] and __import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_a_quantized_run_without_cuda_is_bad_input_before_the_model_is_downloaded(tmp_path: Any) -> None:
    """The trainer child as the supervisor runs it: exit code 2 and the reason, with the hub offline and a model
    that is not in the cache, so a download attempted would have failed as model access (exit code 4) instead."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": ROOT,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "CUDA_VISIBLE_DEVICES": "",
    }
    for mode in ("4bit", "8bit"):
        done = subprocess.run(
            [sys.executable, "-m", "trainpod_agent", "trainer", "--dataset", str(rows), "--output-dir",
             str(tmp_path / "out"), "--base-model", "nobody/not-downloaded", "--hyperparameters",
             json.dumps({"quantization": mode})],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == EXIT_BAD_INPUT, done.stderr[-2000:]
        assert f"error: quantization {mode} needs a CUDA GPU (bitsandbytes)" in done.stderr
        assert "base model:" not in done.stdout and not os.path.exists(tmp_path / "hf")  # no fetch began


def test_the_method_trains_on_its_formats_only() -> None:
    preference.check_method("sft", "chat")
    preference.check_method("dpo", "preference_chat")
    with pytest.raises(InputError, match=r"^method dpo trains on datasets of format preference or preference_chat; "
                                         r"this dataset is chat$"):  # fmt: skip
        preference.check_method("dpo", "chat")
    with pytest.raises(InputError, match=r"this dataset is preference \(set hyperparameter method to dpo\)$"):
        preference.check_method("sft", "preference")


def test_a_dpo_run_on_a_chat_dataset_is_bad_input_in_the_child(tmp_path: Any) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "TRAINPOD_ML": "simulated"}
    done = subprocess.run(
        [sys.executable, "-m", "trainpod_agent", "trainer", "--dataset", str(rows), "--output-dir",
         str(tmp_path / "out"), "--hyperparameters", '{"method": "dpo"}'],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == EXIT_BAD_INPUT
    assert "error: method dpo trains on datasets of format preference or preference_chat" in done.stderr


def test_string_preference_rows_become_chat_turns_and_extra_keys_are_dropped() -> None:
    assert preference.to_conversation({"prompt": "p", "chosen": "c", "rejected": "r", "id": 1}) == {
        "prompt": [{"role": "user", "content": "p"}],
        "chosen": [{"role": "assistant", "content": "c"}],
        "rejected": [{"role": "assistant", "content": "r"}],
    }
    row = {
        "prompt": [{"role": "system", "content": "s", "name": "x"}, {"role": "user", "content": "u"}],
        "chosen": [{"role": "assistant", "content": "c", "weight": 1}],
        "rejected": [{"role": "assistant", "content": "r"}],
    }
    assert preference.to_conversation(row)["prompt"] == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u"},
    ]
    assert preference.to_conversation(row)["chosen"] == [{"role": "assistant", "content": "c"}]


@ML
def test_dpo_arguments_are_sfts_less_packing_plus_beta(tmp_path: Any) -> None:
    from trl import DPOConfig

    from trainpod_agent.ml.real_dpo import dpo_arguments

    given = hp(method="dpo", steps=7, eval_fraction=0.2, early_stopping_patience=2, tokenize_num_proc=2)
    args = dpo_arguments(given, "/ckpt", bf16=False, cuda=False)
    assert not {"packing", "padding_free", "dataset_kwargs"} & set(args)
    assert (args["beta"], args["max_steps"], args["max_length"], args["dataset_num_proc"]) == (0.1, 7, 1024, 2)
    assert args["metric_for_best_model"] == "eval_loss" and args["eval_strategy"] == "steps"
    assert dpo_arguments(hp(method="dpo", dpo_beta=0.5), "/ckpt", bf16=False, cuda=False)["beta"] == 0.5
    DPOConfig(**dict(args, output_dir=str(tmp_path)))  # every key is DPOConfig's


@ML
def test_dpo_facts_are_the_first_and_last_margins_and_the_last_accuracy() -> None:
    from trainpod_agent.ml.real_dpo import dpo_facts

    logs = [
        {"loss": 0.69, "rewards/margins": 0.0, "rewards/accuracies": 0.0, "step": 1},
        {"eval_loss": 0.6, "eval_rewards/margins": 0.3},
        {"loss": 0.5, "rewards/margins": 0.4, "rewards/accuracies": 0.75, "step": 2},
        {"train_loss": 0.6},
    ]
    assert dpo_facts(logs) == {"reward_margin": 0.4, "reward_margin_first": 0.0, "reward_accuracy": 0.75}
    assert dpo_facts([{"loss": 1.0}]) == {}


@pytest.mark.skipif(not HAS["transformers"], reason="transformers is not importable")
def test_a_dpo_step_reports_its_reward_margin(capsys: pytest.CaptureFixture[str]) -> None:
    from trainpod_agent.ml.callbacks import progress_callback

    sent: list[dict[str, Any]] = []

    class Report:
        def progress(self, **body: Any) -> None:
            sent.append(body)

    cb = progress_callback(Report(), SimpleNamespace(total=None, advance=lambda done: None))  # type: ignore[arg-type]
    state = SimpleNamespace(global_step=1, max_steps=2)
    cb.on_train_begin(None, state, None)
    no_eval = SimpleNamespace(should_evaluate=False)
    cb.on_log(None, state, no_eval, logs={"loss": 0.69, "rewards/margins": 0.0, "rewards/accuracies": 0.0})
    state.global_step = 2
    cb.on_log(None, state, no_eval, logs={"loss": 0.6, "rewards/margins": 0.25})
    assert [b.get("reward_margin") for b in sent] == [0.0, 0.25]
    assert "step 2/2 loss 0.6000 reward_margin 0.2500" in capsys.readouterr().out


def test_the_progress_event_carries_the_reward_margin_as_rewardMargin() -> None:
    out: list[dict[str, Any]] = []
    Events(out.append, FakeClock()).progress(4, 10, 0.5, reward_margin=0.123456789)
    assert out == [{"type": "progress", "step": 4, "totalSteps": 10, "loss": 0.5, "rewardMargin": 0.123457}]


def test_the_simulated_dpo_run_reports_a_growing_margin_and_accepts_quantization(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sent: list[tuple[float | None, float | None]] = []

    class Report:
        def progress(self, step: int, total: int | None, loss: float | None = None, **m: float) -> None:
            sent.append((loss, m.get("reward_margin")))

    given = hp(steps=10, sim_step_ms=0, method="dpo", quantization="4bit")
    phase = Phase()
    SimulatedML(FakeClock()).train(RunSpec("d", "o", "m", given, [{}], "preference"), Report(), phase)  # type: ignore[arg-type]
    losses, found = [loss for loss, _ in sent], [m for _, m in sent]
    assert found[0] == 0 and all(a < b for a, b in zip(found, found[1:], strict=False))
    assert losses[0] == pytest.approx(0.6931, abs=1e-4) and losses[-1] < losses[0]
    assert phase.data["reward_margin"] == found[-1]
    assert "step 10/10 loss " in capsys.readouterr().out
    sent.clear()
    SimulatedML(FakeClock()).train(RunSpec("d", "o", "m", hp(steps=2, sim_step_ms=0), [{}]), Report(), Phase())  # type: ignore[arg-type]
    assert [m for _, m in sent] == [None, None]
