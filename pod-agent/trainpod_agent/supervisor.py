"""The trainer as a child process in its own process group (so a stop reaches everything it started; with
`gpuCount > 1` it is torchrun, whose ranks die with it: ml/distributed.py). Its stdout and stderr become the run's
log line by line; its events arrive as JSON lines on a pipe (TRAINPOD_EVENT_FD). A stop is SIGTERM to the group, a
grace, then SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from trainpod_agent.clock import Clock

OnEvent = Callable[[dict[str, Any]], None]
OnLine = Callable[[str], None]


class TrainerProcess:
    def __init__(self, argv: Sequence[str], env: dict[str, str], on_line: OnLine, on_event: OnEvent,
                 cwd: str | None = None) -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            list(argv), env={**env, "TRAINPOD_EVENT_FD": str(write_fd), "PYTHONUNBUFFERED": "1"}, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), start_new_session=True,
        )
        os.close(write_fd)
        self.on_line, self.on_event = on_line, on_event
        self.bad_events = 0
        self.rank_exits: list[int] = []  # failed ranks' exit codes under torchrun (ml/distributed.py), in order
        self._readers = [
            threading.Thread(target=self._read_lines, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._read_events, args=(os.fdopen(read_fd, encoding="utf-8"),), daemon=True),
        ]
        for t in self._readers:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_lines(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            self.on_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
        stream.close()

    def _read_events(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict) and event.get("type") == "trainer_exit":
                if isinstance(event.get("code"), int) and event["code"] != 0:
                    self.rank_exits.append(event["code"])  # the supervisor's to read, never sent
            elif isinstance(event, dict) and isinstance(event.get("type"), str):
                self.on_event(event)
            else:
                self.bad_events += 1
        stream.close()

    def wait(self, drain_s: float = 10.0) -> int:
        """The child's exit code (negative: killed by that signal), once its output is read; under torchrun (which
        exits 1 whatever failed) the first failed rank's own code."""
        code = self.proc.wait()
        for t in self._readers:
            t.join(drain_s)  # a grandchild that escaped the group may hold the pipes: do not wait forever
        return self.rank_exits[0] if code > 0 and self.rank_exits else code

    def stop(self, clock: Clock, grace_s: float = 10.0) -> int:
        """SIGTERM to the group, `grace_s` to end, then SIGKILL to the group."""
        self._signal(signal.SIGTERM)
        waited = 0.0
        while self.proc.poll() is None and waited < grace_s:
            clock.sleep(0.1)
            waited += 0.1
        self._signal(signal.SIGKILL)
        return self.wait()

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def trainer_argv(python: str, dataset: str, output_dir: str, base_model: str, hyperparameters: str) -> list[str]:
    """The child's command: this package's trainer entry, with the package found through PYTHONPATH."""
    return [python, "-m", "trainpod_agent", "trainer", "--dataset", dataset, "--output-dir", output_dir,
            "--base-model", base_model, "--hyperparameters", hyperparameters]


# the trainer reports through the supervisor: it needs none of the pod's credentials
SUPERVISOR_SECRETS = ("TRAINPOD_RUN_TOKEN", "TRAINPOD_DATASET_URL", "RUNPOD_API_KEY")
# the hub: no telemetry; hf-xet's high-performance download path (HF_HUB_ENABLE_HF_TRANSFER is a no-op today)
HUB_DEFAULTS = {"HF_HUB_DISABLE_TELEMETRY": "1", "HF_XET_HIGH_PERFORMANCE": "1"}


def trainer_env(environ: Mapping[str, str], root: str) -> dict[str, str]:
    """The trainer child's environment: the pod's, less the supervisor's secrets, the package on PYTHONPATH, the
    hub's defaults (a value the pod sets wins)."""
    env = {**HUB_DEFAULTS, **{k: v for k, v in environ.items() if k not in SUPERVISOR_SECRETS}}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, environ.get("PYTHONPATH", "")) if p)
    return env


def package_root() -> str:
    """What to put on the child's PYTHONPATH: the zipapp (agent.pyz) or the folder that holds the package."""
    here = os.path.dirname(os.path.abspath(__file__))  # .../trainpod_agent (inside the zip or not)
    return os.path.dirname(here)
