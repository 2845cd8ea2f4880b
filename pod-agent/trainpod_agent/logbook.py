"""The run's log: every line timestamped (UTC), printed (RunPod's log), appended to a file on the volume, and
queued for the API, which gets it in `log` events of at most 100 lines. Secrets are masked before anything is
written; a line is cut at 1000 characters (the API takes 4000 a line and 256 KB a body)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import IO

from trainpod_agent.clock import Clock

MAX_LINE = 1000
BATCH = 100
# the names of the user's secrets in the pod's env (HF_TOKEN, WANDB_API_KEY, ...), comma-separated: set by the launcher
SECRET_NAMES_ENV = "TRAINPOD_SECRET_NAMES"


def user_secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the user's secrets the launcher named in TRAINPOD_SECRET_NAMES: masked like trainpod's own."""
    names = (n.strip() for n in env.get(SECRET_NAMES_ENV, "").split(","))
    return tuple(env[n] for n in names if n and env.get(n))


def utc_stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Logbook:
    def __init__(self, path: str, clock: Clock, secrets: Iterable[str] = (), out: IO[str] | None = None) -> None:
        self.path, self.clock = path, clock
        # each secret whole, and each of its lines (a log line holds at most one): the longest first
        parts = {p for s in secrets for p in (s, *s.splitlines()) if len(p.strip()) >= 6}
        self.secrets = tuple(sorted(parts, key=len, reverse=True))
        self.out = out if out is not None else sys.stdout
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._tail: list[str] = []
        open(path, "a").close()

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def __call__(self, text: str) -> None:
        self.log(text)

    def log(self, text: str) -> None:
        stamp = utc_stamp(self.clock.now())
        lines = []
        for raw in self.mask(text).splitlines() or [""]:
            clean = "".join(c for c in raw if c == "\t" or c >= " ")
            if len(clean) > MAX_LINE:
                clean = clean[:MAX_LINE] + "..."
            lines.append("%s %s" % (stamp, clean))
        with self._lock:
            for line in lines:
                try:
                    self.out.write(line + "\n")
                    self.out.flush()
                except (OSError, ValueError):
                    pass
            with open(self.path, "a", encoding="utf-8") as f:
                f.writelines(line + "\n" for line in lines)
            self._pending.extend(lines)
            self._tail = (self._tail + lines)[-BATCH:]

    def tail(self, n: int = BATCH) -> list[str]:
        with self._lock:
            return list(self._tail[-n:])

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def take_batches(self) -> list[list[str]]:
        """The lines logged since the last call, in batches of at most 100."""
        with self._lock:
            pending, self._pending = self._pending, []
        return [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
