"""The run's output: the LoRA adapter and the tokenizer in output_dir, and with merge_adapter the merged weights
(fp16, bf16 where the GPU has it) and the tokenizer in output_dir/merged, in shards of at most max_shard_size each
(model-0000N-of-0000M.safetensors and model.safetensors.index.json): every file is one artifact, and the API
refuses a file over ARTIFACT_MAX_BYTES. torch is imported inside save_run."""

from __future__ import annotations

import os
from typing import Any

from trainpod_agent.ml.callbacks import set_phase_total
from trainpod_agent.ml.distributed import is_main_process
from trainpod_agent.ml.seam import Phase

MiB = 1024 * 1024
MERGED = "merged"


def shard_size(hp: dict[str, Any]) -> int:
    """The merged weights' shard size in bytes (hyperparameter max_shard_size_mb, in MiB)."""
    return max(1, int(hp["max_shard_size_mb"] * MiB))


def _files(directory: str) -> dict[str, tuple[int, int]]:
    """Every file under directory: relative path (with /) -> (mtime_ns, size)."""
    out: dict[str, tuple[int, int]] = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            st = os.stat(path)
            out[os.path.relpath(path, directory).replace(os.sep, "/")] = (st.st_mtime_ns, st.st_size)
    return out


def written_since(directory: str, before: dict[str, tuple[int, int]]) -> list[str]:
    """The files under directory that are new or changed since `before` (a _files snapshot), sorted."""
    return sorted(p for p, stamp in _files(directory).items() if before.get(p) != stamp)


def save_run(
    trainer: Any,
    tokenizer: Any,
    output_dir: str,
    phase: Phase,
    *,
    merge: bool,
    max_shard_size: int | str,
    bf16: bool,
) -> list[str]:
    """Saves the adapter (trainer.save_model) and the tokenizer; with `merge`, the merged model in shards. Returns
    the files written (paths relative to output_dir) and notes files, bytes and the merged shards on the phase."""
    os.makedirs(output_dir, exist_ok=True)
    before = _files(output_dir)
    trainer.save_model(output_dir)  # on every rank: FSDP gathers the weights; the main process alone writes them
    if not is_main_process(trainer):  # under torchrun, rank 0 writes the run's files
        return []
    tokenizer.save_pretrained(output_dir)
    print(f"adapter saved to {output_dir}", flush=True)
    phase.advance(len(written_since(output_dir, before)))
    shards = 0
    if merge:
        import torch

        merged_dir = os.path.join(output_dir, MERGED)
        merged = trainer.model.merge_and_unload().to(torch.bfloat16 if bf16 else torch.float16)
        merged.save_pretrained(merged_dir, max_shard_size=max_shard_size)
        tokenizer.save_pretrained(merged_dir)
        shards = sum(1 for name in os.listdir(merged_dir) if name.endswith(".safetensors"))
        print(f"merged weights saved to {merged_dir} ({shards} shard(s))", flush=True)
    files = written_since(output_dir, before)
    size = sum(os.path.getsize(os.path.join(output_dir, f)) for f in files)
    set_phase_total(phase, len(files))
    phase.advance(len(files))
    phase.note(files=len(files), bytes=size, **({"shards": shards} if merge else {}))
    return files
