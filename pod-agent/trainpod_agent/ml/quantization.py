"""QLoRA (issue 26 item 3): the base model loaded in 4-bit (nf4, double quantization, bf16 compute) or 8-bit with
bitsandbytes through transformers' BitsAndBytesConfig, then peft's prepare_model_for_kbit_training; the LoRA
adapter on top trains in higher precision as usual. bitsandbytes needs a CUDA GPU: without one the run is refused
before the model is downloaded (InputError, exit code 2). The pod installs bitsandbytes only for such a run
(packages/core/trainer/requirements-quantization.txt, added to the start script's pins by the API). torch,
transformers and peft are imported inside the functions."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from trainpod_agent.ml.seam import InputError


def quantized(hp: dict[str, Any]) -> str | None:
    """The run's quantization ("4bit" or "8bit"), or None for full-precision weights."""
    mode = hp.get("quantization") or "none"
    return None if mode == "none" else str(mode)


def require(hp: dict[str, Any]) -> None:
    """Refuses a quantized run where it cannot run: InputError without CUDA (the user asked for what this machine
    cannot do), RuntimeError when bitsandbytes is missing (the pod's install). Nothing for an unquantized run."""
    mode = quantized(hp)
    if mode is None:
        return
    import torch

    if not torch.cuda.is_available():
        raise InputError(f"quantization {mode} needs a CUDA GPU (bitsandbytes)")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise RuntimeError(
            f"quantization {mode} needs bitsandbytes, which is not installed (the pod installs it with the trainer's "
            "pins when quantization is asked: packages/core/trainer/requirements-quantization.txt)"
        )


def bnb_config(mode: str, bf16: bool) -> Any:
    """transformers' BitsAndBytesConfig: nf4 with double quantization and bf16 compute (fp16 on a GPU without bf16)
    for 4bit, LLM.int8() for 8bit."""
    import torch
    from transformers import BitsAndBytesConfig

    if mode == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if bf16 else torch.float16,
    )


def load_kwargs(hp: dict[str, Any], bf16: bool) -> dict[str, Any]:
    """AutoModelForCausalLM.from_pretrained's extra arguments: the quantization config, and the whole model on this
    process's GPU (LOCAL_RANK under a multi-process launch); none for an unquantized run."""
    mode = quantized(hp)
    if mode is None:
        return {}
    return {"quantization_config": bnb_config(mode, bf16), "device_map": {"": int(os.environ.get("LOCAL_RANK", "0"))}}


def prepare(model: Any, hp: dict[str, Any]) -> Any:
    """peft's k-bit preparation of a quantized model (the norms in fp32, input gradients on, non-reentrant activation
    checkpointing, as the trainer's arguments ask); the model as it is when unquantized."""
    if quantized(hp) is None:
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(
        model, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False}
    )
