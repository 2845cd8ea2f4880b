"""Issue 26's parts that run without training: the training arguments of eval, early stopping, packing and the
schedule, the eval split, the progress callback that waits for a step's eval, the token count and the run's facts,
the eval loss in the progress event, and the simulated ML's eval losses."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace
from typing import Any

import pytest
from recorders import RecordedPhase as Phase

from trainpod_agent.clock import FakeClock
from trainpod_agent.ml import real_train, train_report
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.reporter import Events
from trainpod_agent.ml.seam import InputError, RunSpec
from trainpod_agent.ml.simulated import SimulatedML


def args(**hp: Any) -> dict[str, Any]:
    import json

    return real_train.training_arguments(hyperparameters(json.dumps(hp)), "/ckpt", bf16=False, cuda=False)


def test_the_defaults_train_as_before_with_the_new_knobs_at_transformers_defaults() -> None:
    a = args()
    assert (a["lr_scheduler_type"], a["warmup_steps"], a["max_grad_norm"], a["seed"]) == ("linear", 0.0, 1.0, 42)
    assert (a["packing"], a["padding_free"], a["dataset_kwargs"], a["max_length"]) == (
        False,
        False,
        {"skip_prepare_dataset": True},
        1024,
    )
    assert "eval_strategy" not in a and "load_best_model_at_end" not in a
    # issue 27: checkpoints by default, every tenth of the run, the last 2 kept (ml/checkpoints.py)
    assert (a["save_strategy"], a["save_steps"], a["save_total_limit"]) == ("steps", 0.1, 2)
    assert args(checkpoint_every_steps=0)["save_strategy"] == "no"


def test_schedule_seed_and_clipping_go_to_the_trainer() -> None:
    a = args(lr_scheduler="cosine", warmup_ratio=0.05, seed=7, max_grad_norm=0.3)
    assert (a["lr_scheduler_type"], a["warmup_steps"], a["seed"], a["max_grad_norm"]) == ("cosine", 0.05, 7, 0.3)


def test_packing_lets_trl_prepare_the_rows_and_padding_free_alone_takes_them_as_cut() -> None:
    packed = args(packing=True, max_seq_length=512)
    assert (packed["packing"], packed["dataset_kwargs"], packed["max_length"]) == (
        True,
        {"skip_prepare_dataset": False},
        512,
    )
    free = args(padding_free=True)
    assert (free["padding_free"], free["dataset_kwargs"], free["max_length"]) == (
        True,
        {"skip_prepare_dataset": True},
        None,
    )


def test_eval_every_eval_steps_or_a_tenth_of_the_run_and_early_stopping_keeps_the_best() -> None:
    a = args(eval_fraction=0.1, batch_size=8)
    assert (a["eval_strategy"], a["eval_steps"], a["per_device_eval_batch_size"], a["prediction_loss_only"]) == (
        "steps",
        0.1,
        8,
        True,
    )
    assert args(eval_fraction=0.1, eval_steps=25)["eval_steps"] == 25
    stop = args(eval_fraction=0.1, early_stopping_patience=3)
    assert stop["save_strategy"] == "best" and stop["load_best_model_at_end"]
    # issue 27: full checkpoints (a resume needs the optimizer), the best kept besides the last 2
    assert (stop["save_only_model"], stop["save_total_limit"]) == (False, 3)
    off = args(eval_fraction=0.1, early_stopping_patience=3, checkpoint_every_steps=0)
    assert (off["save_only_model"], off["save_total_limit"]) == (True, 1)
    assert (stop["metric_for_best_model"], stop["greater_is_better"]) == ("eval_loss", False)
    assert stop["output_dir"] == "/ckpt"  # the checkpoints' scratch folder, never the artifacts' folder


class Split:
    def __init__(self, n: int) -> None:
        self.n = n
        self.asked: dict[str, Any] = {}

    def __len__(self) -> int:
        return self.n

    def train_test_split(self, test_size: float, seed: int) -> dict[str, Any]:
        self.asked = {"test_size": test_size, "seed": seed}
        return {"train": "T", "test": "E"}


def test_the_eval_split_is_seeded_and_needs_two_rows() -> None:
    rows = Split(10)
    assert real_train.split_eval(rows, 0.0, 42) == (rows, None)
    assert real_train.split_eval(rows, 0.2, 7) == ("T", "E") and rows.asked == {"test_size": 0.2, "seed": 7}
    with pytest.raises(InputError, match="^eval_fraction needs at least 2 rows with something to train on$"):
        real_train.split_eval(Split(1), 0.5, 42)


class Batch:
    def __init__(self, n: int) -> None:
        self.n = n

    def numel(self) -> int:
        return self.n


def test_the_token_count_sees_the_rows_and_the_positions_of_training_batches_only() -> None:
    def collate(examples: list[dict[str, Any]]) -> dict[str, Any]:  # pads every row to the longest
        return {"input_ids": Batch(len(examples) * max(len(e["input_ids"]) for e in examples))}

    trainer = SimpleNamespace(data_collator=collate)
    trainer.get_train_dataloader = lambda: trainer.data_collator  # the dataloader keeps the collator it was given
    count = train_report.count_training_tokens(trainer)
    counted = trainer.get_train_dataloader()
    assert trainer.data_collator is collate  # the eval dataloader gets the plain one
    counted([{"input_ids": [1] * 10}, {"input_ids": [1] * 30}])
    assert (count.real, count.total, count.share()) == (40, 60, 40 / 60)
    assert train_report.TokenCount().share() is None


def test_an_early_stop_says_the_steps_and_seconds_it_saved() -> None:
    state = SimpleNamespace(global_step=40, max_steps=100, best_global_step=30, best_metric=1.25)
    stop = train_report.early_stop(state, 3, 80.0)
    assert stop is not None and (stop.steps_saved, stop.seconds_saved, stop.best_step) == (60, 120.0, 30)
    assert train_report.early_stop(state, None, 80.0) is None
    assert train_report.early_stop(SimpleNamespace(global_step=100, max_steps=100), 3, 80.0) is None
    assert train_report.final_eval_loss(state, [(30, 1.25), (40, 1.5)], best_loaded=True) == 1.25
    assert train_report.final_eval_loss(state, [(30, 1.25), (40, 1.5)], best_loaded=False) == 1.5
    assert train_report.final_eval_loss(state, [], best_loaded=False) is None
    tokens = train_report.TokenCount(real=950, total=1000)
    facts = train_report.facts(2.0, 1.25, stop, tokens, 10.0)
    assert facts == {
        "train_loss": 2.0,
        "eval_loss": 1.25,
        "stopped_early": 1,
        "steps_saved": 60,
        "seconds_saved": 120.0,
        "best_step": 30,
        "tokens_real": 950,
        "tokens_total": 1000,
        "real_token_share": 0.95,
        "real_tokens_per_s": 95.0,
    }
    lines = train_report.summary(facts, stop, 3)
    assert lines[0] == (
        "tokens: 950 of real data in 1000 positions computed (95.0% real, 5.0% padding), 95 real tokens/s"
    )
    assert lines[1].startswith("early stopping: the eval loss did not improve for 3 evals; stopped at step 40 of 100")
    assert train_report.facts(None, None, None, train_report.TokenCount(), 0) == {}


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers is not importable")
def test_a_step_about_to_be_evaluated_is_reported_once_with_its_eval_loss(capsys: pytest.CaptureFixture[str]) -> None:
    from trainpod_agent.ml.callbacks import progress_callback

    sent: list[dict[str, Any]] = []

    class Report:
        def progress(self, **body: Any) -> None:
            sent.append(body)

    phase = SimpleNamespace(total=None, advance=lambda done: None)
    cb = progress_callback(Report(), phase)  # type: ignore[arg-type]
    state = SimpleNamespace(global_step=0, max_steps=3)
    cb.on_train_begin(None, state, None)
    for step, evaluate in ((1, False), (2, True), (3, True)):
        state.global_step = step
        control = SimpleNamespace(should_evaluate=evaluate)
        cb.on_log(None, state, control, logs={"loss": 2.0 - step / 10, "learning_rate": 1e-4})
        if evaluate and step == 2:
            cb.on_log(None, state, control, logs={"eval_loss": 1.5, "eval_runtime": 0.1})
    cb.on_train_end(None, state, None)  # step 3's eval never came: it is sent as it is
    cb.on_log(None, state, SimpleNamespace(should_evaluate=False), logs={"eval_loss": 1.4})  # evaluate() after
    assert sent == [
        {"step": 1, "total_steps": 3, "loss": 1.9, "learning_rate": 1e-4},
        {"step": 2, "total_steps": 3, "loss": 1.8, "learning_rate": 1e-4, "eval_loss": 1.5},
        {"step": 3, "total_steps": 3, "loss": 1.7, "learning_rate": 1e-4},
    ]
    assert cb.evals == [(2, 1.5)]
    assert "step 2/3 loss 1.8000 eval_loss 1.5000" in capsys.readouterr().out


def test_the_progress_event_carries_the_eval_loss_as_evalLoss() -> None:
    out: list[dict[str, Any]] = []
    Events(out.append, FakeClock()).progress(4, 10, 1.23456789, eval_loss=1.5, learning_rate=1e-4)
    assert out == [{"type": "progress", "step": 4, "totalSteps": 10, "loss": 1.234568, "evalLoss": 1.5,
                    "learning_rate": 0.0001}]


def test_the_simulated_trainer_reports_a_falling_eval_loss_every_eval_steps(capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[tuple[int, float | None]] = []

    class Report:
        def progress(self, step: int, total: int | None, loss: float | None = None, eval_loss: float | None = None,
                     **m: float) -> None:
            sent.append((step, eval_loss))

    hp = hyperparameters('{"steps": 10, "sim_step_ms": 0, "eval_fraction": 0.1, "eval_steps": 4}')
    phase = Phase()
    SimulatedML(FakeClock()).train(RunSpec("d", "o", "m", hp, [{}]), Report(), phase)  # type: ignore[arg-type]
    evals = [(s, e) for s, e in sent if e is not None]
    assert [s for s, _ in evals] == [4, 8, 10] and evals[0][1] > evals[1][1] > evals[2][1]
    assert phase.data["eval_loss"] == evals[-1][1] and "train_loss" in phase.data
    sent.clear()
    SimulatedML(FakeClock()).train(RunSpec("d", "o", "m", hyperparameters('{"steps": 3}'), [{}]), Report(), Phase())
    assert [e for _, e in sent] == [None, None, None]


def test_the_simulated_trainer_logs_a_linearly_decaying_learning_rate() -> None:
    rates: list[float] = []

    class Report:
        def progress(self, step: int, total: int | None, loss: float | None = None, **m: float) -> None:
            rates.append(m["learning_rate"])

    hp = hyperparameters('{"steps": 4, "sim_step_ms": 0, "learning_rate": 0.001}')
    SimulatedML(FakeClock()).train(RunSpec("d", "o", "m", hp, [{}]), Report(), Phase())  # type: ignore[arg-type]
    assert rates == pytest.approx([0.001, 0.00075, 0.0005, 0.00025])
