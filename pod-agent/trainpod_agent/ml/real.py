"""The real ML work (seam.MLWork): LoRA supervised fine-tuning (or DPO) of a causal LM with transformers / peft / trl.

fetch_model (real_fetch.py), load (4bit / 8bit with quantization.py), prepare_data (real_tokenize.py, and the eval
split), train (SFTTrainer: real_train.py; DPOTrainer: real_dpo.py), save (save.py). The ML libraries are imported
inside the methods, so this module imports without them. Out of memory in any step is raised as seam.OutOfMemory
(the child's exit code 3).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trainpod_agent.ml import quantization
from trainpod_agent.ml.data import prepare_tokenizer
from trainpod_agent.ml.distributed import batch_facts, batch_line
from trainpod_agent.ml.real_dpo import preference_dataset, run_dpo
from trainpod_agent.ml.real_fetch import fetch
from trainpod_agent.ml.real_tokenize import tokenize
from trainpod_agent.ml.real_train import run_training, split_eval
from trainpod_agent.ml.save import save_run, shard_size
from trainpod_agent.ml.seam import OutOfMemory, Phase, Reporter, RunSpec

LIBRARIES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate")


def library_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in LIBRARIES:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} missing")
    return ", ".join(out)


def is_out_of_memory(err: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, any RuntimeError that says "out of memory" (CUDA, MPS, the allocator), or
    the host's MemoryError."""
    if isinstance(err, (OutOfMemory, MemoryError)) or type(err).__name__ == "OutOfMemoryError":
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


@contextmanager
def memory_errors() -> Iterator[None]:
    """Raises an out-of-memory error of the block as seam.OutOfMemory (its cause the original)."""
    try:
        yield
    except OutOfMemory:
        raise
    except (RuntimeError, MemoryError) as err:
        if not is_out_of_memory(err):
            raise
        lines = str(err).strip().splitlines()
        raise OutOfMemory(f"out of memory: {lines[0][:500] if lines else type(err).__name__}") from err


def _quiet() -> None:
    """No progress bars in the pod's log (a carriage return a tick), nor the libraries' deprecation notes to each
    other (transformers 5.24 warns that peft/trl call is_gradient_checkpointing)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


class RealML:
    """seam.MLWork on transformers / peft / trl. One instance per run: each step keeps what the next needs.

    cache_dir: the HF cache for hub models (default: the environment's, HF_HOME / HF_HUB_CACHE).
    max_shard_size: overrides the hyperparameter max_shard_size_mb (bytes, or a string like "100KB": tests).
    watch_s: how often the model download's bytes are reported.
    """

    def __init__(
        self, cache_dir: str | None = None, max_shard_size: int | str | None = None, watch_s: float = 2.0
    ) -> None:
        self.cache_dir, self.max_shard_size, self.watch_s = cache_dir, max_shard_size, watch_s
        self.model_path: str | None = None
        self.tokenizer: Any = None
        self.model: Any = None
        self.dataset: Any = None
        self.eval_dataset: Any = None
        self.trainer: Any = None
        self.cuda = self.bf16 = False

    def fetch_model(self, spec: RunSpec, phase: Phase) -> None:
        quantization.require(spec.hyperparameters)  # no CUDA for a quantized run: refused before the download
        self.model_path = fetch(spec.base_model, phase, cache_dir=self.cache_dir, every=self.watch_s)

    def load(self, spec: RunSpec, phase: Phase) -> None:
        _quiet()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        print(f"libraries: {library_versions()}", flush=True)
        path = self.model_path or spec.base_model
        self.cuda = torch.cuda.is_available()
        self.bf16 = self.cuda and torch.cuda.is_bf16_supported()
        with memory_errors():
            tokenizer = AutoTokenizer.from_pretrained(path)
            added = prepare_tokenizer(tokenizer)
            dtype = torch.bfloat16 if self.bf16 else torch.float32
            quantized = quantization.load_kwargs(spec.hyperparameters, self.bf16)  # QLoRA: 4bit / 8bit weights
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **quantized)
            if added:
                model.resize_token_embeddings(len(tokenizer))
            model.config.pad_token_id = tokenizer.pad_token_id
            model = quantization.prepare(model, spec.hyperparameters)
        self.tokenizer, self.model = tokenizer, model
        params = sum(p.numel() for p in model.parameters())
        phase.note(parameters=params, dtype=str(dtype).replace("torch.", ""), device="cuda" if self.cuda else "cpu")
        bits = quantization.quantized(spec.hyperparameters)
        print(f"model loaded: {params} parameters, {bits or dtype}, {'cuda' if self.cuda else 'cpu'}", flush=True)

    def prepare_data(self, spec: RunSpec, phase: Phase) -> None:
        if self.tokenizer is None:
            raise RuntimeError("prepare_data before load")
        hp = spec.hyperparameters
        with memory_errors():
            if hp["method"] == "dpo":  # trl's DPOTrainer tokenizes the preference rows itself
                dataset = preference_dataset(self.tokenizer, spec.rows, phase)
            else:
                dataset = self._tokenized(spec, phase)
            self.dataset, self.eval_dataset = split_eval(dataset, hp["eval_fraction"], hp["seed"])
        if self.eval_dataset is not None:
            phase.note(train_rows=len(self.dataset), eval_rows=len(self.eval_dataset))
            print(f"eval set: {len(self.eval_dataset)} rows held out (seed {hp['seed']})", flush=True)

    def _tokenized(self, spec: RunSpec, phase: Phase) -> Any:
        hp = spec.hyperparameters
        return tokenize(
            self.tokenizer,
            spec.rows,
            hp["max_seq_length"],
            hp["completion_only_loss"],
            phase,
            num_proc=hp.get("tokenize_num_proc"),
        )

    def train(self, spec: RunSpec, report: Reporter, phase: Phase) -> None:
        if self.model is None or self.dataset is None:
            raise RuntimeError("train before load and prepare_data")
        print(batch_line(spec.hyperparameters), flush=True)
        phase.note(**batch_facts(spec.hyperparameters))
        train = run_dpo if spec.hyperparameters["method"] == "dpo" else run_training
        with memory_errors():
            self.trainer = train(
                self.model,
                self.tokenizer,
                (self.dataset, self.eval_dataset),
                spec.hyperparameters,
                report,
                phase,
                bf16=self.bf16,
                cuda=self.cuda,
            )

    def save(self, spec: RunSpec, phase: Phase) -> list[str]:
        if self.trainer is None:
            raise RuntimeError("save before train")
        hp = spec.hyperparameters
        size = self.max_shard_size if self.max_shard_size is not None else shard_size(hp)
        with memory_errors():
            return save_run(
                self.trainer,
                self.tokenizer,
                spec.output_dir,
                phase,
                merge=bool(hp["merge_adapter"]),
                max_shard_size=size,
                bf16=self.bf16,
            )
