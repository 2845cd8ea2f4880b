"""The real ML work (seam.MLWork): LoRA supervised fine-tuning of a causal LM with transformers / peft / trl.

fetch_model (real_fetch.py), load, prepare_data (real_tokenize.py), train (SFTTrainer, the callback of
callbacks.py), save (save.py). The ML libraries are imported inside the methods, so this module imports without
them. Out of memory in any step is raised as seam.OutOfMemory (the child's exit code 3).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trainpod_agent.ml.callbacks import progress_callback
from trainpod_agent.ml.data import prepare_tokenizer
from trainpod_agent.ml.real_fetch import fetch
from trainpod_agent.ml.real_tokenize import tokenize
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


def training_arguments(hp: dict[str, Any], output_dir: str, bf16: bool, cuda: bool) -> dict[str, Any]:
    """SFTConfig's arguments. Memory (issue 15, finding 3): activation (gradient) checkpointing, non-reentrant
    (what PEFT needs: the frozen inputs get no grad), bf16 where the GPU has it."""
    return dict(
        output_dir=output_dir,
        num_train_epochs=hp["epochs"],
        max_steps=hp["steps"] or -1,
        learning_rate=hp["learning_rate"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation_steps"],
        max_length=hp["max_seq_length"],
        activation_checkpointing=True,
        activation_checkpointing_kwargs={"use_reentrant": False},
        dataset_kwargs={"skip_prepare_dataset": True},  # rows are tokenized by prepare_data, labels included
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        bf16=bf16,
        use_cpu=not cuda,
    )


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
        self.trainer: Any = None
        self.cuda = self.bf16 = False

    def fetch_model(self, spec: RunSpec, phase: Phase) -> None:
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
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
            if added:
                model.resize_token_embeddings(len(tokenizer))
            model.config.pad_token_id = tokenizer.pad_token_id
        self.tokenizer, self.model = tokenizer, model
        params = sum(p.numel() for p in model.parameters())
        phase.note(parameters=params, dtype=str(dtype).replace("torch.", ""), device="cuda" if self.cuda else "cpu")
        print(f"model loaded: {params} parameters, {dtype}, {'cuda' if self.cuda else 'cpu'}", flush=True)

    def prepare_data(self, spec: RunSpec, phase: Phase) -> None:
        if self.tokenizer is None:
            raise RuntimeError("prepare_data before load")
        hp = spec.hyperparameters
        with memory_errors():
            self.dataset = tokenize(
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
        from peft import LoraConfig
        from transformers import PrinterCallback
        from trl import SFTConfig, SFTTrainer

        hp = spec.hyperparameters
        config = SFTConfig(**training_arguments(hp, spec.output_dir, bf16=self.bf16, cuda=self.cuda))
        lora = LoraConfig(
            r=hp["lora_r"],
            lora_alpha=hp["lora_alpha"],
            lora_dropout=hp["lora_dropout"],
            target_modules=hp["target_modules"],
            task_type="CAUSAL_LM",
        )
        with memory_errors():
            trainer = SFTTrainer(
                model=self.model,
                args=config,
                train_dataset=self.dataset,
                processing_class=self.tokenizer,
                peft_config=lora,
                callbacks=[progress_callback(report, phase)],
            )
            trainer.remove_callback(PrinterCallback)  # the progress callback prints one line a step
            self.trainer = trainer
            trainer.train()

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
