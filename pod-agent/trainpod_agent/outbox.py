"""Events go to the API in order, from one background thread: the run never waits on the network for a progress
report. The queue is bounded; when it is full the oldest `progress` event is dropped (a later one supersedes it),
never a phase or an outcome. flush() waits until everything queued was sent (or given up)."""

from __future__ import annotations

import collections
import threading
from typing import Any

from trainpod_agent.http import RetryPolicy
from trainpod_agent.run_client import RunClient


class Outbox:
    def __init__(self, client: RunClient, size: int = 256, policy: RetryPolicy | None = None) -> None:
        self.client, self.size, self.policy = client, size, policy
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="trainpod-outbox", daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        with self._cond:
            if len(self._queue) >= self.size:
                for i, queued in enumerate(self._queue):
                    if queued.get("type") == "progress":
                        del self._queue[i]
                        self.dropped += 1
                        break
            self._queue.append(event)
            self._cond.notify_all()

    def flush(self, timeout: float = 120.0) -> bool:
        """True once the queue is empty and nothing is in flight."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed and not self._queue:
                    return
                event = self._queue.popleft()
                self._busy = True
            try:
                self.client.try_event(event, self.policy)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
