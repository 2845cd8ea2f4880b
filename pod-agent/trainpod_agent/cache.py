"""The run's cache on its data centre's cache volume (issue 28): the trainer's pinned packages and the base model's
weights, so a second run of a model in a data centre installs and downloads nothing.

- packages: a venv (`--system-site-packages`: the image's torch stays) per key = sha256 of (the pins, the image's
  torch, its python), at `<root>/packages/<key>`; the trainer child runs its python. An image that has the pins
  already (images/trainer/Dockerfile) needs none.
- models: HF_HOME at `<root>/hf` (huggingface_hub keeps its own per-file locks there); each model's folder
  `hub/models--owner--name` is used under a shared lock and marked used (its `.trainpod-used` file's mtime); past
  TRAINPOD_CACHE_MAX_BYTES the least recently used folders no pod holds are evicted.
- concurrency: one pod fills a key at a time (an exclusive `flock` on `<root>/locks/<key>.lock`), into a folder of
  its own, renamed into place only when complete (a marker inside): a reader sees a whole entry or none; a pod that
  waited for the lock finds the entry filled and uses it. A pod killed mid-fill leaves a `.tmp-*` folder, never a
  half entry, and its lock dies with it.

The simulator's pods (TRAINPOD_ML=simulated) fill the same folders with markers only, at sizes and speeds given as
`sim_*` hyperparameters (ml/simulated.py): cold = size / bandwidth, warm = ~0.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

COMPLETE = ".trainpod-complete"  # inside an entry: it is whole (written last, before the rename)
USED = ".trainpod-used"  # inside a model's folder: its mtime is when a run last used it


@dataclass(frozen=True)
class CacheSettings:
    root: str  # the volume: TRAINPOD_CACHE_DIR (the simulator's pods: SIM_NETWORK_VOLUME_DIR, the same volume)
    max_bytes: int  # TRAINPOD_CACHE_MAX_BYTES: what the models may take before eviction (0: no limit)

    @property
    def hf_home(self) -> str:
        return os.path.join(self.root, "hf")


def cache_settings(env: Mapping[str, str]) -> CacheSettings | None:
    """The pod's cache volume, or None when the pod has none (TRAINPOD_CACHE_DIR unset)."""
    if not env.get("TRAINPOD_CACHE_DIR"):
        return None
    root = env.get("SIM_NETWORK_VOLUME_DIR") or env["TRAINPOD_CACHE_DIR"]
    raw = env.get("TRAINPOD_CACHE_MAX_BYTES", "0")
    return CacheSettings(root=root, max_bytes=int(raw) if raw.isdigit() else 0)


@contextmanager
def locked(root: str, name: str, shared: bool = False, wait: bool = True) -> Iterator[bool]:
    """An flock on `<root>/locks/<name>.lock` (exclusive, or shared); with wait=False yields False when taken."""
    folder = os.path.join(root, "locks")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, _safe(name) + ".lock"), "a+") as f:
        mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(f, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def hold_shared(root: str, name: str) -> IO[str]:
    """A shared lock held until the returned file is closed (the agent holds its model's for the whole run)."""
    folder = os.path.join(root, "locks")
    os.makedirs(folder, exist_ok=True)
    f = open(os.path.join(folder, _safe(name) + ".lock"), "a+")
    fcntl.flock(f, fcntl.LOCK_SH)
    return f


def read_marker(entry: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(entry, COMPLETE)) as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return None


def fill_once(root: str, entry: str, name: str, fill: Callable[[str], dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    """The entry at `entry`, whole: (True, marker) when it was there (or another pod filled it while this one waited
    for the lock), else filled now by `fill(tmp)` into a folder of its own and renamed into place: (False, marker)."""
    found = read_marker(entry)
    if found is not None:
        return True, found
    with locked(root, name):
        found = read_marker(entry)
        if found is not None:
            return True, found
        tmp = "%s.tmp-%s" % (entry, uuid.uuid4().hex[:12])
        os.makedirs(tmp)
        try:
            marker = fill(tmp)
            _write_json(os.path.join(tmp, COMPLETE), marker)
            if os.path.exists(entry):  # a half entry of an older agent: moved away whole, then deleted
                _discard(entry)
            os.rename(tmp, entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return False, marker


def packages_key(pins: str, torch: str, python: str) -> str:
    text = "\n".join(sorted(pins.split()) + ["torch=" + torch, "python=" + python])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def model_folder(settings: CacheSettings, model: str) -> str:
    """huggingface_hub's folder of a repo's files under HF_HOME (`hub/models--owner--name`)."""
    return os.path.join(settings.hf_home, "hub", "models--" + model.strip("/").replace("/", "--"))


def model_lock_name(model: str) -> str:
    return "model-" + hashlib.sha256(model.encode()).hexdigest()[:24]


def mark_used(folder: str, now: float) -> None:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, USED)
    with open(path, "a"):
        pass
    os.utime(path, (now, now))


def folder_bytes(folder: str) -> int:
    """A model's bytes: its marker's (the simulator's placeholder weights), else the files on the volume."""
    marker = read_marker(folder)
    if marker is not None and isinstance(marker.get("bytes"), int):
        return int(marker["bytes"])
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                continue
    return total


def evict_models(settings: CacheSettings, keep: str, log: Callable[[str], None]) -> int:
    """Past max_bytes, the least recently used model folders go (never `keep`, never one another pod holds: it has a
    shared lock on it). Each is renamed away first (it disappears whole), then deleted. The bytes evicted."""
    hub = os.path.join(settings.hf_home, "hub")
    if settings.max_bytes <= 0 or not os.path.isdir(hub):
        return 0
    folders = []
    for name in os.listdir(hub):
        path = os.path.join(hub, name)
        if name.startswith("models--") and ".tmp-" not in name and os.path.isdir(path):
            used = os.path.join(path, USED)
            folders.append((os.path.getmtime(used) if os.path.exists(used) else 0.0, name, path))
    sizes = {path: folder_bytes(path) for _t, _n, path in folders}
    total, evicted = sum(sizes.values()), 0
    for _used, name, path in sorted(folders):
        if total <= settings.max_bytes:
            break
        model = name[len("models--"):].replace("--", "/")
        if path == keep:
            continue
        with locked(settings.root, model_lock_name(model), wait=False) as free:
            if not free:
                continue  # a run is using it
            _discard(path)
        total -= sizes[path]
        evicted += sizes[path]
        log("cache: evicted %s (%d bytes, least recently used)" % (model, sizes[path]))
    return evicted


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _discard(path: str) -> None:
    gone = "%s.tmp-evicted-%s" % (path, uuid.uuid4().hex[:8])
    os.rename(path, gone)
    shutil.rmtree(gone, ignore_errors=True)


def _write_json(path: str, value: dict[str, Any]) -> None:
    tmp = path + ".part"
    with open(tmp, "w") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
