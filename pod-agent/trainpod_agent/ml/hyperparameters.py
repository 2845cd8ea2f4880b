"""The trainer's hyperparameters: names, types, ranges and defaults (standard library only).

The API checks the same rules (packages/core/src/deployment/hyperparameters.ts, a zod schema);
tests/fixtures/hyperparameters.json holds cases both sides must decide alike. Unknown keys are refused.
"""

from __future__ import annotations

import json
import math
from typing import Any

from trainpod_agent.ml.seam import InputError

# the learning rate schedules offered (transformers' SchedulerType; those that need extra arguments or an eval-driven
# schedule are left out)
LR_SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
)
QUANTIZATIONS = ("none", "4bit", "8bit")  # the base model's weights as loaded (bitsandbytes): ml/quantization.py
METHODS = ("sft", "dpo")  # supervised fine-tuning (SFTTrainer) or preference training (DPOTrainer, ml/real_dpo.py)
DISTRIBUTED = ("ddp", "fsdp")  # with gpuCount > 1: data parallel, or the model sharded (ml/distributed.py)
CHOICES: dict[str, tuple[str, ...]] = {"lr_scheduler": LR_SCHEDULERS, "quantization": QUANTIZATIONS, "method": METHODS}
CHOICES["distributed"] = DISTRIBUTED
# the keys that mean something only with another: name -> (the other, what it must be)
NEEDS = {
    "eval_steps": ("eval_fraction", "an eval set: eval_fraction above 0"),
    "early_stopping_patience": ("eval_fraction", "an eval set: eval_fraction above 0"),
    "early_stopping_threshold": ("early_stopping_patience", "early_stopping_patience"),
}
# the keys that need another key at one value: name -> (the other, its value); checked when the key is given
NEEDS_VALUE = {"dpo_beta": ("method", "dpo")}
# the pairs that cannot go together: (key, its value, other key, the other's value, why)
CONFLICTS = (
    ("packing", True, "method", "dpo", "trl's DPOTrainer does not pack"),
    ("padding_free", True, "method", "dpo", "trl's DPOTrainer has no padding-free batching"),
    ("merge_adapter", True, "quantization", "4bit", "merge into the unquantized base model after the run"),
    ("merge_adapter", True, "quantization", "8bit", "merge into the unquantized base model after the run"),
    ("merge_adapter", True, "distributed", "fsdp", "the sharded model is not merged; merge the adapter after the run"),
    ("quantization", "4bit", "distributed", "fsdp", "FSDP does not shard bitsandbytes weights here; use ddp"),
    ("quantization", "8bit", "distributed", "fsdp", "FSDP does not shard bitsandbytes weights here; use ddp"),
)

# name: (kind, minimum, maximum, default); "int" is a JSON integer, "number" any finite JSON number, "enum" one of
# CHOICES[name]
HYPERPARAMETERS: dict[str, tuple[str, float | None, float | None, Any]] = {
    "learning_rate": ("number", 1e-8, 1.0, 2e-4),
    "epochs": ("int", 1, 100, 1),
    "steps": ("int", 1, 1_000_000, None),  # when given, overrides epochs
    "lora_r": ("int", 1, 1024, 16),
    "lora_alpha": ("int", 1, 4096, 32),
    "lora_dropout": ("number", 0.0, 0.9, 0.05),
    "max_seq_length": ("int", 16, 131072, 1024),
    "batch_size": ("int", 1, 1024, 4),
    "gradient_accumulation_steps": ("int", 1, 1024, 4),
    "completion_only_loss": ("bool", None, None, True),
    "target_modules": ("modules", None, None, "all-linear"),
    "merge_adapter": ("bool", None, None, False),
    # the merged weights' shard size in MiB: each shard is one artifact, kept below the API's ARTIFACT_MAX_BYTES
    "max_shard_size_mb": ("number", 0.01, 5120, 4096),
    "tokenize_num_proc": ("int", 1, 64, None),  # None: min(8, the pod's CPU count)
    # eval (issue 26 item 1): a seeded share of the rows held out, its loss every eval_steps, early stopping
    "eval_fraction": ("number", 0.0, 0.5, 0.0),  # 0: no eval set
    "eval_steps": ("int", 1, 1_000_000, None),  # None: a tenth of the run's steps
    "early_stopping_patience": ("int", 1, 1000, None),  # evals without improvement that end the run; None: off
    "early_stopping_threshold": ("number", 0.0, 10.0, None),  # the least fall of the eval loss that counts; None: 0
    # efficiency (issue 26 item 2)
    "packing": ("bool", None, None, False),  # trl's best-fit-decreasing packing into max_seq_length, padding-free
    "padding_free": ("bool", None, None, False),  # each batch's rows end to end, no padding (without packing)
    "lr_scheduler": ("enum", None, None, "linear"),
    "warmup_ratio": ("number", 0.0, 0.9, 0.0),  # the share of the run's steps that warm the learning rate up
    "seed": ("int", 0, 4_294_967_295, 42),  # the trainer's seed and the eval split's
    "max_grad_norm": ("number", 0.0, 1000.0, 1.0),  # gradient clipping; 0: none
    # QLoRA and DPO (issue 26 items 3 and 5)
    "quantization": ("enum", None, None, "none"),  # 4bit: nf4 with double quantization; needs a CUDA GPU
    "method": ("enum", None, None, "sft"),  # dpo: a preference dataset (preference or preference_chat rows)
    "dpo_beta": ("number", 0.001, 10.0, None),  # DPO's beta (the pull towards the reference model); None: 0.1
    # multi-GPU (issue 26 item 4): with gpuCount > 1, one process per GPU under torchrun, DDP or FSDP
    "distributed": ("enum", None, None, "ddp"),
    # checkpoints (issue 27, ml/checkpoints.py): every N steps (None: a tenth of the run; 0: none) and every M minutes
    # (None: 30 while checkpoints are on), the last K kept on the pod and in storage; a later attempt resumes from one
    "checkpoint_every_steps": ("int", 0, 1_000_000, None),
    "checkpoint_every_minutes": ("number", 0.1, 10_080, None),
    "checkpoints_kept": ("int", 1, 20, 2),
    # the simulated ML work (ml/simulated.py) reads these; accepted everywhere, ignored by the real one
    "sim_step_ms": ("int", 0, 3_600_000, None),
    "sim_fail_at_step": ("int", 0, 1_000_000, None),
    "sim_exit_code": ("int", 0, 255, None),
    "sim_error": ("string", 0, 1000, None),
    "sim_extra_artifact_bytes": ("int", 0, 1_073_741_824, None),
    "sim_model_bytes": ("int", 0, 2_000_000_000_000, None),
    "sim_download_bytes_per_s": ("int", 1, 100_000_000_000, None),
    "sim_packages_bytes": ("int", 0, 2_000_000_000_000, None),  # the install the agent simulates (cache.py)
    "sim_install_bytes_per_s": ("int", 1, 100_000_000_000, None),
    "sim_load_s": ("number", 0, 86_400, None),
    "sim_rows_per_s": ("int", 1, 1_000_000_000, None),
    "sim_tokens_per_s": ("int", 1, 1_000_000_000, None),  # train at this many real tokens/s (estimate scale model)
    "sim_silent_s": ("number", 0, 86_400, None),  # silent (no event, no log line) before step 1
    "sim_hang_at_step": ("int", 0, 1_000_000, None),
    "sim_output_shards": ("int", 0, 1000, None),
    "sim_shard_bytes": ("int", 0, 100_000_000_000, None),
}
MODULE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _check_modules(value: Any) -> Any:
    if value == "all-linear":
        return value
    ok = isinstance(value, list) and 1 <= len(value) <= 64
    ok = ok and all(isinstance(m, str) and 1 <= len(m) <= 100 and set(m) <= MODULE_NAME_CHARS for m in value)
    if not ok:
        raise InputError('hyperparameter target_modules must be "all-linear" or a list of 1 to 64 module names')
    return value


def _check_value(name: str, value: Any) -> Any:
    kind, lo, hi, _ = HYPERPARAMETERS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"hyperparameter {name} must be true or false, got {json.dumps(value)}")
        return value
    if kind == "modules":
        return _check_modules(value)
    if kind == "enum":
        if value not in CHOICES[name]:
            choices = ", ".join(CHOICES[name])
            raise InputError(f"hyperparameter {name} must be one of {choices}, got {json.dumps(value)}")
        return value
    assert lo is not None and hi is not None
    if kind == "string":
        if not isinstance(value, str) or len(value) > hi:
            raise InputError(f"hyperparameter {name} must be a string of at most {int(hi)} characters")
        return value
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "int" and not (is_number and float(value).is_integer()):
        raise InputError(f"hyperparameter {name} must be an integer, got {json.dumps(value)}")
    if not is_number:
        raise InputError(f"hyperparameter {name} must be a number, got {json.dumps(value)}")
    if value < lo or value > hi:
        raise InputError(f"hyperparameter {name} must be between {lo} and {hi}, got {value}")
    return int(value) if kind == "int" else value


def defaults() -> dict[str, Any]:
    return {name: spec[3] for name, spec in HYPERPARAMETERS.items()}


def hyperparameters(text: str | None) -> dict[str, Any]:
    """The JSON object of hyperparameters, checked (unknown keys refused) and merged with the defaults."""
    try:
        given = json.loads(text or "{}")
    except ValueError as err:
        raise InputError(f"hyperparameters are not valid JSON: {err}") from None
    if not isinstance(given, dict):
        raise InputError("hyperparameters must be a JSON object")
    unknown = sorted(k for k in given if k not in HYPERPARAMETERS)
    if unknown:
        raise InputError(f"unknown hyperparameter(s): {', '.join(unknown)} (known: {', '.join(HYPERPARAMETERS)})")
    merged = defaults()
    merged.update({name: _check_value(name, value) for name, value in given.items()})
    for name, (other, what) in NEEDS.items():
        if merged[name] is not None and not merged[other]:
            raise InputError(f"hyperparameter {name} needs {what}")
    for name, (other, value) in NEEDS_VALUE.items():
        if merged[name] is not None and merged[other] != value:
            raise InputError(f"hyperparameter {name} needs {other} {value}")
    for name, value, other, other_value, why in CONFLICTS:
        if merged[name] == value and merged[other] == other_value:
            shown = json.dumps(value)
            raise InputError(f"hyperparameter {name} {shown} is not available with {other} {other_value}: {why}")
    return merged
