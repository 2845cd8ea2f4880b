"""Every call the pod makes to the trainpod API, authenticated by the run token, with one retry policy.

Events carry `seq`, strictly increasing through the pod's life: the counter is kept in the state folder, so a
restarted container goes on from where it stopped and the API can drop repeats. Each call that reached the API
stamps the last-contact file the dead-man switch reads.
"""

from __future__ import annotations

import json
import os
import threading
from typing import IO, Any

from trainpod_agent.clock import Clock
from trainpod_agent.http import HttpError, Log, Response, RetryPolicy, bearer, request, with_retries


class Contact:
    """The time of the last call that reached the API, on disk (read by the dead-man switch, kept over restarts)."""

    def __init__(self, path: str, clock: Clock) -> None:
        self.path, self.clock = path, clock

    def stamp(self) -> None:
        _write_atomic(self.path, "%d\n" % int(self.clock.now()))

    def last(self) -> float | None:
        try:
            with open(self.path) as f:
                return float(f.read().strip())
        except (OSError, ValueError):
            return None


def _write_atomic(path: str, text: str) -> None:
    tmp = "%s.%d.tmp" % (path, threading.get_ident())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Sequence:
    """The events' sequence numbers, persisted (a restart must never reuse a number the API has seen)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            with open(path) as f:
                self._n = int(f.read().strip() or 0)
        except (OSError, ValueError):
            self._n = 0

    def next(self) -> int:
        with self._lock:
            self._n += 1
            _write_atomic(self.path, "%d\n" % self._n)
            return self._n


class RunClient:
    def __init__(
        self, events_url: str, artifacts_url: str, token: str, clock: Clock, state_dir: str,
        policy: RetryPolicy | None = None, log: Log | None = None,
    ) -> None:
        self.events_url, self.artifacts_url, self.token = events_url, artifacts_url, token
        self.clock, self.log = clock, log
        self.policy = policy or RetryPolicy()
        os.makedirs(state_dir, exist_ok=True)
        self.contact = Contact(os.path.join(state_dir, "last-report"), clock)
        self.seq = Sequence(os.path.join(state_dir, "event-seq"))

    # --- the calls ---
    def _post(self, url: str, body: dict[str, Any], what: str, policy: RetryPolicy | None = None) -> Response:
        data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
        headers = {**bearer(self.token), "Content-Type": "application/json"}

        def once() -> Response:
            resp = request("POST", url, headers, data, timeout=30)
            self.contact.stamp()
            return resp

        return with_retries(once, what, policy or self.policy, self.clock, self.log)

    def event(self, body: dict[str, Any], policy: RetryPolicy | None = None, seq: bool = True) -> None:
        """POST one event with the next sequence number (kept over its retries, so the API can drop a repeat);
        HttpError when it did not reach the API. Heartbeats carry none: they are sent beside the ordered events."""
        self._post(self.events_url, {**body, "seq": self.seq.next()} if seq else body, "report", policy)

    def try_event(self, body: dict[str, Any], policy: RetryPolicy | None = None, seq: bool = True) -> bool:
        """An event whose failure never fails the run (logged)."""
        try:
            self.event(body, policy, seq)
            return True
        except HttpError as err:
            if self.log is not None:
                self.log("warning: could not report an event: %s" % err.why)
            return False

    def declare(self, path: str, size: int, sha256: str) -> dict[str, Any]:
        body = {"path": path, "sizeBytes": size, "sha256": sha256}
        return self._post(self.artifacts_url, body, "declare %s" % path).json()

    def upload_url(self, path: str, part_number: int | None = None, sha256: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"path": path}
        if part_number is not None:
            body["partNumber"] = part_number
        if sha256 is not None:
            body["sha256"] = sha256
        return self._post(self.artifacts_url + "/url", body, "upload URL of %s" % path).json()

    def complete(self, path: str, parts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"path": path}
        if parts is not None:
            body["parts"] = parts
        return self._post(self.artifacts_url + "/complete", body, "complete %s" % path).json()

    def dataset_url(self) -> dict[str, Any]:
        """A fresh presigned GET of the run's dataset, once its token URL was spent by a redirect to the bucket
        (`POST /v1/runs/:id/dataset/url` → {url, expiresAt}; 409 NOT_A_BUCKET when the dataset streams through the API).
        """
        base = (self.artifacts_url or self.events_url).rstrip("/").rsplit("/", 1)[0]
        return self._post(base + "/dataset/url", {}, "dataset URL").json()

    def put_through_api(self, path: str, stream: IO[bytes], size: int) -> Response:
        """The bytes of an artifact through the API (mode `api`). Not retried here: the caller re-opens the file."""
        from urllib.parse import quote

        url = "%s/%s" % (self.artifacts_url, quote(path))
        headers = {**bearer(self.token), "Content-Type": "application/octet-stream"}
        resp = request("PUT", url, headers, stream, timeout=600, length=size)
        self.contact.stamp()
        return resp
