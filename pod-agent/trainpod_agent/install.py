"""The install phase (issue 28): the trainer's pinned packages, through the data centre's cache volume when the pod
has one (cache.py), and the trainer's python and env that go with it.

Without a cache volume start.sh installed the pins already (as before): nothing to do here, but the simulated ML's
install time (`sim_packages_bytes` at `sim_install_bytes_per_s`), which every run pays. With one, start.sh leaves the
install to this phase: an image that has the pins (images/trainer/Dockerfile) needs nothing; else the venv of the
pins' key on the volume is used (warm) or made once, for every later pod (cold).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distributions, version
from typing import IO, Any

from trainpod_agent.cache import (
    CacheSettings,
    cache_settings,
    evict_models,
    fill_once,
    hold_shared,
    inside_cache,
    mark_used,
    model_folder,
    packages_key,
)
from trainpod_agent.clock import Clock

TICK_S = 0.25


class InstallFailed(RuntimeError):
    """pip could not install the pins into the cache's venv: a setup failure (the run's last lines say why)."""


class ModelRefused(RuntimeError):
    """The base model names a folder on the cache volume (other runs' cached weights): never read (model_access)."""


@dataclass
class Prepared:
    python: str  # the trainer's interpreter: the image's, or the cache's venv
    env: dict[str, str] = field(default_factory=dict)  # HF_HOME on the volume
    settings: CacheSettings | None = None
    model_lock: IO[str] | None = None  # a shared lock on the model's folder, held for the whole run

    def after_run(self, base_model: str, now: float, log: Callable[[str], None]) -> None:
        """The model was used now; past the size limit the least recently used others are evicted."""
        if self.settings is None or self.settings.hf_home is None:
            return
        folder = model_folder(self.settings, base_model)
        if os.path.isdir(folder):
            mark_used(folder, now)
        evict_models(self.settings, keep=folder, log=log)

    def close(self) -> None:
        if self.model_lock is not None:
            self.model_lock.close()
            self.model_lock = None


def _num(hp: Mapping[str, Any], key: str, default: float) -> float:
    value = hp.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def pins_satisfied(pins: str) -> bool:
    """Does this python have exactly these `name==version` pins (an image with them preinstalled)?"""
    for pin in pins.split():
        name, _, wanted = pin.partition("==")
        try:
            if version(name) != wanted:
                return False
        except PackageNotFoundError:
            return False
    return True


def image_identity() -> tuple[str, str]:
    """The image under the venv: its interpreter's real path (the venv's bin/python links to it) and a hash of its
    installed packages (`name==version`, sorted): another image with the same torch and python gets its own venv."""
    names = sorted({"%s==%s" % ((d.metadata["Name"] or "").lower(), d.version) for d in distributions()})
    return os.path.realpath(sys.executable), hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def image_versions() -> tuple[str, str]:
    """The image's torch and python: part of the packages' key (a venv is built on them)."""
    try:
        torch = version("torch")
    except PackageNotFoundError:
        torch = "none"
    return torch, platform.python_version()


def simulate(clock: Clock, phase: Any, total: int, per_s: float) -> None:
    """The simulated install: `total` bytes at `per_s` a second, advancing the phase."""
    if total <= 0:
        return
    phase.total = total
    seconds = total / max(per_s, 1e-9)
    ticks = max(1, math.ceil(seconds / TICK_S))
    for i in range(1, ticks + 1):
        clock.sleep(seconds / ticks)
        phase.advance(int(total * i / ticks))


def pip_venv(folder: str, pins: str, torch: str, log: Callable[[str], None]) -> None:
    """A venv on the image's packages (its torch kept) with the pins installed."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", folder], check=True, capture_output=True)
    constraints = os.path.join(folder, "constraints.txt")
    with open(constraints, "w") as f:
        f.write("torch==%s\n" % torch if torch != "none" else "")
    done = subprocess.run([os.path.join(folder, "bin", "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "-c", constraints, *pins.split()],
                          capture_output=True, text=True)
    if done.returncode != 0:
        for line in (done.stdout + done.stderr).splitlines()[-20:]:
            log("pip: %s" % line)
        raise InstallFailed("pip install of the trainer packages into the cache volume failed")


def prepare(simulated: bool, hyperparameters: str, base_model: str, events: Any, clock: Clock,
            log: Callable[[str], None], env: Mapping[str, str] | None = None) -> Prepared:
    """The install phase: the trainer's python and env, through the cache when the pod has one."""
    env = os.environ if env is None else env
    try:
        hp = json.loads(hyperparameters)
    except ValueError:
        hp = {}
    hp = hp if isinstance(hp, dict) else {}
    sim_bytes, sim_speed = int(_num(hp, "sim_packages_bytes", 0)), _num(hp, "sim_install_bytes_per_s", 1e8)
    if base_model.startswith("/") and inside_cache(base_model, env):
        raise ModelRefused("base model %s is on the cache volume, which holds other runs' cached files: a base model "
                           "cannot be read from it; name the hub repo id instead" % base_model)
    settings = cache_settings(env)
    if settings is None:
        if simulated and sim_bytes > 0:
            with events.phase("install", unit="bytes") as phase:
                simulate(clock, phase, sim_bytes, sim_speed)
                phase.note(cache_hit=0)
        return Prepared(python=sys.executable)
    pins = env.get("TRAINPOD_TRAINER_REQUIREMENTS", "")
    hf_home = settings.hf_home
    prepared = Prepared(python=sys.executable, env={"HF_HOME": hf_home} if hf_home else {}, settings=settings)
    if hf_home is None:
        log("cache: no user scope for this run's models (TRAINPOD_CACHE_USER): they are not cached on the volume")
    else:
        whose = "shared: a public model" if settings.user is None else "this user's"
        log("cache: models in %s (%s)" % (hf_home, whose))
    with events.phase("install", unit="bytes") as phase:
        if not simulated and pins_satisfied(pins):
            log("install: the image has the trainer's packages (%s): nothing to install" % pins)
            phase.note(cache_hit=1, image_has_pins=1)
        else:
            torch, python = image_versions()
            interpreter, image_packages = image_identity()
            key = packages_key(pins, torch, python, interpreter, image_packages)
            entry = os.path.join(settings.root, "packages", key)

            def fill(tmp: str) -> dict[str, Any]:
                log("install: %s into the cache volume (key %s: torch %s, Python %s)" % (pins, key, torch, python))
                if simulated:
                    simulate(clock, phase, sim_bytes, sim_speed)
                    with open(os.path.join(tmp, "requirements.txt"), "w") as f:
                        f.write("\n".join(pins.split()) + "\n")
                else:
                    pip_venv(tmp, pins, torch, log)
                return {"pins": pins, "torch": torch, "python": python, "bytes": sim_bytes if simulated else 0}

            hit, _marker = fill_once(settings.root, entry, "packages-" + key, fill)
            if hit:
                log("install: the trainer's packages are on the cache volume (key %s): nothing to install" % key)
            if not simulated:
                prepared.python = os.path.join(entry, "bin", "python")
            phase.note(cache_hit=int(hit))
    if hf_home is not None:
        prepared.model_lock = hold_shared(settings.root, settings.model_lock(base_model))
    return prepared
