"""ml/hyperparameters.py: the table, its checks, and the cases shared with the API's zod schema."""

from __future__ import annotations

import json
import os

import pytest

from trainpod_agent.ml import hyperparameters as hpm
from trainpod_agent.ml.seam import InputError

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
with open(os.path.join(FIXTURES, "hyperparameters.json"), encoding="utf-8") as _f:
    CASES = json.load(_f)


def test_merges_the_defaults_and_steps() -> None:
    hp = hpm.hyperparameters('{"learning_rate": 0.001, "steps": 7}')
    assert (hp["learning_rate"], hp["steps"]) == (0.001, 7)
    assert (hp["epochs"], hp["lora_r"], hp["target_modules"], hp["completion_only_loss"], hp["merge_adapter"]) == (
        1,
        16,
        "all-linear",
        True,
        False,
    )
    assert set(hp) == set(hpm.HYPERPARAMETERS)
    assert hpm.hyperparameters("") == hpm.hyperparameters(None) == hpm.defaults()


def test_the_new_keys_defaults() -> None:
    hp = hpm.hyperparameters("{}")
    assert (hp["max_shard_size_mb"], hp["tokenize_num_proc"]) == (4096, None)
    sims = (
        "sim_model_bytes",
        "sim_download_bytes_per_s",
        "sim_load_s",
        "sim_rows_per_s",
        "sim_silent_s",
        "sim_hang_at_step",
        "sim_output_shards",
        "sim_shard_bytes",
    )
    assert all(hp[k] is None for k in sims)


@pytest.mark.parametrize("case", CASES["ok"], ids=json.dumps)
def test_shared_fixtures_accepted(case: dict) -> None:
    """issue 15, finding 4: the API's rules (hyperparameters.test.ts runs the same file)."""
    hp = hpm.hyperparameters(json.dumps(case))
    for key, value in case.items():
        assert hp[key] == value


@pytest.mark.parametrize("case", CASES["bad"], ids=json.dumps)
def test_shared_fixtures_refused(case: dict) -> None:
    with pytest.raises(InputError):
        hpm.hyperparameters(json.dumps(case))


def test_every_key_is_in_the_shared_fixtures() -> None:
    """The API's schema is checked against the same file: a key missing there is a key the two sides may disagree on."""
    seen = {k for case in CASES["ok"] for k in case}
    assert seen == set(hpm.HYPERPARAMETERS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"epochs": "3"}', 'hyperparameter epochs must be an integer, got "3"'),
        ('{"epochs": 1.5}', "hyperparameter epochs must be an integer, got 1.5"),
        ('{"learning_rate": "2e-4"}', 'hyperparameter learning_rate must be a number, got "2e-4"'),
        ('{"lora_dropout": 1}', "hyperparameter lora_dropout must be between 0.0 and 0.9, got 1"),
        ('{"max_shard_size_mb": 0}', "hyperparameter max_shard_size_mb must be between 0.01 and 5120, got 0"),
        ('{"tokenize_num_proc": 65}', "hyperparameter tokenize_num_proc must be between 1 and 64, got 65"),
        ('{"sim_load_s": -1}', "hyperparameter sim_load_s must be between 0 and 86400, got -1"),
        ('{"merge_adapter": "yes"}', 'hyperparameter merge_adapter must be true or false, got "yes"'),
        ('{"sim_error": 3}', "hyperparameter sim_error must be a string of at most 1000 characters"),
        ('{"target_modules": "q_proj"}', 'hyperparameter target_modules must be "all-linear" or a list of 1 to 64'),
        ("[1,2]", "hyperparameters must be a JSON object"),
        ("{", "hyperparameters are not valid JSON"),
        ('{"lr": 0.1}', "unknown hyperparameter(s): lr (known: learning_rate, epochs"),
        ('{"lr_scheduler": "Cosine"}', "hyperparameter lr_scheduler must be one of linear, cosine, cosine_with_"),
        ('{"early_stopping_patience": 3}', "hyperparameter early_stopping_patience needs an eval set: eval_fraction"),
        ('{"eval_steps": 5, "eval_fraction": 0}', "hyperparameter eval_steps needs an eval set: eval_fraction above 0"),
        (
            '{"eval_fraction": 0.1, "early_stopping_threshold": 0.1}',
            "hyperparameter early_stopping_threshold needs early_stopping_patience",
        ),
    ],
)
def test_messages_name_the_key_and_the_value(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        hpm.hyperparameters(text)
    assert str(caught.value).startswith(message)


def test_issue_26_keys_defaults() -> None:
    """eval off, packing off, transformers' own schedule, seed and clipping: a run without them trains as before."""
    hp = hpm.hyperparameters("{}")
    assert (hp["eval_fraction"], hp["eval_steps"], hp["early_stopping_patience"], hp["early_stopping_threshold"]) == (
        0.0,
        None,
        None,
        None,
    )
    assert (hp["packing"], hp["padding_free"], hp["lr_scheduler"], hp["warmup_ratio"]) == (False, False, "linear", 0.0)
    assert (hp["seed"], hp["max_grad_norm"]) == (42, 1.0)


def test_integers_given_as_floats_become_ints() -> None:
    hp = hpm.hyperparameters('{"epochs": 3.0, "sim_model_bytes": 2e12, "sim_load_s": 1.5}')
    assert (hp["epochs"], hp["sim_model_bytes"], hp["sim_load_s"]) == (3, 2_000_000_000_000, 1.5)
    assert isinstance(hp["epochs"], int) and isinstance(hp["sim_model_bytes"], int)


def test_booleans_are_not_numbers_nor_infinity() -> None:
    for text in ('{"batch_size": true}', '{"learning_rate": Infinity}', '{"learning_rate": NaN}'):
        with pytest.raises(InputError):
            hpm.hyperparameters(text)
