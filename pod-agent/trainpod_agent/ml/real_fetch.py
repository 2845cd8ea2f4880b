"""The base model onto the pod: a local directory as it is, a hub id with huggingface_hub.snapshot_download into the
HF cache (HF_HOME / HF_HUB_CACHE; the token from HF_TOKEN), its bytes reported as they land. The errors that mean
"this model cannot be had" (not found, gated, private without a token, no hub and not cached) become
seam.ModelAccessError. huggingface_hub is imported inside the functions."""

from __future__ import annotations

import fnmatch
import os
import threading
from typing import Any

from trainpod_agent.ml.callbacks import set_phase_total
from trainpod_agent.ml.seam import ModelAccessError, Phase

# files a transformers model never loads (other runtimes' formats, the original checkpoints of Llama repos)
NEVER = [
    "original/*",
    "*.gguf",
    "*.onnx",
    "*.onnx_data",
    "onnx/*",
    "*.h5",
    "*.msgpack",
    "*.ot",
    "*.tflite",
    "coreml/*",
    "openvino/*",
    "*.mlmodel",
    ".gitattributes",
]
# when the repo has safetensors weights, the same weights in pickle formats
PICKLED = ["*.bin", "*.pt", "*.pth"]
# when it has transformers' model*.safetensors, the same weights in the original layout (Mistral's repos)
ORIGINAL = ["consolidated*"]


def ignore_patterns(names: list[str]) -> list[str]:
    """What snapshot_download skips for a repo holding `names`: other formats, and the same weights twice."""
    out = list(NEVER)
    if any(n.endswith(".safetensors") for n in names):
        out += PICKLED
    if any(fnmatch.fnmatch(n, "model*.safetensors") for n in names):
        out += ORIGINAL
    return out


def kept(names: dict[str, int], ignore: list[str]) -> dict[str, int]:
    return {n: s for n, s in names.items() if not any(fnmatch.fnmatch(n, p) for p in ignore)}


def directory_bytes(path: str) -> tuple[int, int]:
    """(bytes, files) under path, following links (the HF cache's snapshots link to its blobs)."""
    size = count = 0
    for root, _dirs, names in os.walk(path, followlinks=True):
        for name in names:
            try:
                size += os.path.getsize(os.path.join(root, name))
                count += 1
            except OSError:
                continue  # a file removed while we walk (a download's .incomplete renamed)
    return size, count


def access_error(model: str, err: BaseException) -> ModelAccessError | None:
    """The ModelAccessError for a hub error that means no access, else None (a bug, a full disk: not the model's)."""
    from huggingface_hub import errors as e

    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, e.GatedRepoError):
        why = "is gated: accept its terms on the hub and give the run an HF_TOKEN that has access"
    elif isinstance(err, e.RepositoryNotFoundError):
        why = "was not found on the hub (or is private and the run's HF_TOKEN has no access)"
    elif isinstance(err, e.RevisionNotFoundError):
        why = "has no such revision on the hub"
    elif isinstance(err, e.DisabledRepoError):
        why = "is disabled on the hub"
    elif isinstance(err, e.HfHubHTTPError) and status in (401, 403, 404):
        why = f"cannot be fetched: the hub answered {status}"
    elif isinstance(err, (e.LocalEntryNotFoundError, e.OfflineModeIsEnabled)):
        why = "cannot be fetched: the hub is unreachable and the model is not in the cache"
    elif isinstance(err, e.HFValidationError):
        why = "is neither a local directory nor a valid hub id"
    else:
        return None
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return ModelAccessError(f"base model {model} {why} ({first[:300]})")


def repo_files(model: str) -> dict[str, int] | None:
    """The repo's files and sizes from the hub's API, or None when the API does not say (no sizes, hub down)."""
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(model, files_metadata=True)
    except Exception as err:
        from huggingface_hub import errors as e

        if isinstance(err, (e.LocalEntryNotFoundError, e.OfflineModeIsEnabled)):
            return None  # no hub: snapshot_download may still find the model in the cache
        refused = access_error(model, err)
        if refused is not None:
            raise refused from err
        return None  # the hub is down or answers 5xx: the same
    siblings = info.siblings or []
    if not siblings or not all(isinstance(s.size, int) for s in siblings):
        return None
    return {s.rfilename: int(s.size or 0) for s in siblings}


class _Watch:
    """Reports the bytes in the model's cache folder every `every` seconds while the download runs."""

    def __init__(self, folder: str, phase: Phase, total: int | None, every: float) -> None:
        self.folder, self.phase, self.total, self.every = folder, phase, total, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="model-download-watch", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            done, _ = directory_bytes(os.path.join(self.folder, "blobs"))
            self.phase.advance(min(done, self.total) if self.total else done)

    def __enter__(self) -> _Watch:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def fetch(model: str, phase: Phase, cache_dir: str | None = None, every: float = 2.0) -> str:
    """The local directory that holds `model`: itself when it is one, else its snapshot in the HF cache."""
    if os.path.isdir(model):
        size, count = directory_bytes(model)
        set_phase_total(phase, size)
        phase.advance(size)
        phase.note(bytes=size, files=count, source="local")
        print(f"base model: local directory {model} ({size} bytes)", flush=True)
        return model
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.file_download import repo_folder_name
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    files = repo_files(model)
    ignore = ignore_patterns(list(files) if files else [])
    total = sum(kept(files, ignore).values()) if files else None
    set_phase_total(phase, total)
    folder = os.path.join(cache_dir or constants.HF_HUB_CACHE, repo_folder_name(repo_id=model, repo_type="model"))
    print(f"base model: {model} from the hub ({'unknown' if total is None else total} bytes)", flush=True)
    try:
        with _Watch(folder, phase, total, every):
            path = str(snapshot_download(model, cache_dir=cache_dir, ignore_patterns=ignore))
    except Exception as err:
        refused = access_error(model, err)
        if refused is not None:
            raise refused from err
        raise
    size, count = directory_bytes(path)
    phase.advance(size)
    phase.note(bytes=size, files=count, source="hub")
    return path
