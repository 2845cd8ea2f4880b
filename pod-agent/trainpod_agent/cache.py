"""The run's cache on its data centre's cache volume (issue 28): the trainer's pinned packages and the base model's
weights, so a second run of a model in a data centre installs and downloads nothing.

- packages: a venv (`--system-site-packages`: the image's torch stays) per key = sha256 of (the pins, the image's
  torch, its python, the interpreter's real path, the image's installed packages), at `<root>/packages/<key>`; the
  trainer child runs its python. An image that has the pins already (images/trainer/Dockerfile) needs none. Only pods
  of the operator's images (ALLOWED_IMAGES) mount the volume at all: their code is the only code that writes here.
- models: HF_HOME at `<root>/hf`, shared by every user, only for a model the API's hub check found public and
  ungated (TRAINPOD_CACHE_SCOPE=shared); any other (gated, private, or not checked) at `<root>/users/<key>/hf`, the
  user's own (TRAINPOD_CACHE_USER: sha256 of the user id, 16 hex): huggingface_hub serves cached files when the hub
  refuses a token, so a shared folder would hand one user's gated weights to another. No scope or no valid key: the
  models are not cached on the volume at all (fail closed). huggingface_hub keeps its own per-file locks in HF_HOME;
  each model's folder `hub/models--owner--name` is used under a shared lock and marked used (its `.trainpod-used`
  file's mtime); past TRAINPOD_CACHE_MAX_BYTES the least recently used folders (all scopes) no pod holds are evicted.
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


SHARED = "shared"  # TRAINPOD_CACHE_SCOPE of a public, ungated model: `<root>/hf` for every user
USER_KEY = re.compile(r"^[0-9a-f]{16}$")  # TRAINPOD_CACHE_USER: the first 16 hex of sha256(user id)


@dataclass(frozen=True)
class CacheSettings:
    root: str  # the volume: TRAINPOD_CACHE_DIR (the simulator's pods: SIM_NETWORK_VOLUME_DIR, the same volume)
    max_bytes: int  # TRAINPOD_CACHE_MAX_BYTES: what the models may take before eviction (0: no limit)
    user: str | None = None  # None: the shared model cache; a key: that user's own; "": none (models not cached)

    @property
    def owner(self) -> str:
        """Where this run's models live, relative to the root's model caches: "" (shared) or "users/<key>/"."""
        return "" if self.user is None else "users/%s/" % self.user

    @property
    def hf_home(self) -> str | None:
        """HF_HOME on the volume for this run's models; None when they may not be cached there (no user scope)."""
        if self.user == "":
            return None
        return os.path.join(self.root, self.owner, "hf")

    def model_lock(self, model: str) -> str:
        return model_lock_name(model, self.owner)


def cache_settings(env: Mapping[str, str]) -> CacheSettings | None:
    """The pod's cache volume, or None when the pod has none (TRAINPOD_CACHE_DIR unset). The model cache's scope:
    shared only when TRAINPOD_CACHE_SCOPE says so; else the user's own, by TRAINPOD_CACHE_USER; else none."""
    if not env.get("TRAINPOD_CACHE_DIR"):
        return None
    root = env.get("SIM_NETWORK_VOLUME_DIR") or env["TRAINPOD_CACHE_DIR"]
    raw = env.get("TRAINPOD_CACHE_MAX_BYTES", "0")
    key = env.get("TRAINPOD_CACHE_USER", "")
    user = None if env.get("TRAINPOD_CACHE_SCOPE") == SHARED else (key if USER_KEY.match(key) else "")
    return CacheSettings(root=root, max_bytes=int(raw) if raw.isdigit() else 0, user=user)


def cache_roots(env: Mapping[str, str]) -> list[str]:
    """The cache volume's paths on this pod (its mount, and the simulator's folder behind it), real paths."""
    return [os.path.realpath(p) for p in (env.get("TRAINPOD_CACHE_DIR"), env.get("SIM_NETWORK_VOLUME_DIR")) if p]


def inside_cache(path: str, env: Mapping[str, str]) -> bool:
    """Is `path` (a base model given as a folder on the pod) on the cache volume: other runs' cached files?"""
    if not os.path.isabs(path):
        return False
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip("/") + "/") for root in cache_roots(env))


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


def packages_key(pins: str, torch: str, python: str, interpreter: str = "", image_packages: str = "") -> str:
    """The venv's key: the pins, and the image it is built on (`--system-site-packages`, its bin/python a link to the
    image's interpreter): torch, python, the interpreter's real path and a hash of the image's installed packages."""
    text = "\n".join(sorted(pins.split()) + ["torch=" + torch, "python=" + python, "interpreter=" + interpreter,
                                             "image-packages=" + image_packages])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def model_folder(settings: CacheSettings, model: str) -> str:
    """huggingface_hub's folder of a repo's files under this run's HF_HOME (`hub/models--owner--name`)."""
    if settings.hf_home is None:
        raise ValueError("this run's models are not cached on the volume")
    return os.path.join(settings.hf_home, "hub", "models--" + model.strip("/").replace("/", "--"))


def model_lock_name(model: str, owner: str = "") -> str:
    """The lock of a model's folder in one model cache: the shared one (owner "") or a user's ("users/<key>/")."""
    return "model-" + hashlib.sha256((owner + model).encode()).hexdigest()[:24]


def model_hubs(root: str) -> list[tuple[str, str]]:
    """Every model cache on the volume: (owner, its hub folder): the shared one, then each user's."""
    hubs = [("", os.path.join(root, "hf", "hub"))]
    users = os.path.join(root, "users")
    if os.path.isdir(users):
        hubs += [("users/%s/" % k, os.path.join(users, k, "hf", "hub")) for k in sorted(os.listdir(users))
                 if USER_KEY.match(k)]
    return [(owner, hub) for owner, hub in hubs if os.path.isdir(hub)]


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
    """Past max_bytes, the least recently used model folders of every model cache (shared and per user) go (never
    `keep`, never one another pod holds: it has a shared lock on it). Each is renamed away first (it disappears
    whole), then deleted. The bytes evicted."""
    if settings.max_bytes <= 0:
        return 0
    folders = []
    for owner, hub in model_hubs(settings.root):
        for name in os.listdir(hub):
            path = os.path.join(hub, name)
            if name.startswith("models--") and ".tmp-" not in name and os.path.isdir(path):
                used = os.path.join(path, USED)
                folders.append((os.path.getmtime(used) if os.path.exists(used) else 0.0, name, path, owner))
    sizes = {path: folder_bytes(path) for _t, _n, path, _o in folders}
    total, evicted = sum(sizes.values()), 0
    for _used, name, path, owner in sorted(folders):
        if total <= settings.max_bytes:
            break
        model = name[len("models--"):].replace("--", "/")
        if path == keep:
            continue
        with locked(settings.root, model_lock_name(model, owner), wait=False) as free:
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
