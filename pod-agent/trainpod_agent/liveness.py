"""Liveness, for the pod's whole life, on its own thread: a heartbeat every `heartbeat_s` whatever the run is doing
(liveness is not progress), and the dead-man switch: the pod deletes itself when the orchestrator cannot.

The switch uses only what RunPod gave the pod (RUNPOD_POD_ID and the pod-scoped RUNPOD_API_KEY). It fires
- at max runtime + grace after the pod first started (kept on disk across container restarts),
- when no call has reached the API for `unreachable_s` (every successful call counts, the trainer's reports
  included, since they go through the same client) and one more heartbeat fails,
- after the outcome was reported, when the worker's DELETE has not come within the grace (`after_outcome`).
A 404 counts as done; 408, 429, 5xx and no answer are tried again later; anything else gives up.
"""

from __future__ import annotations

import os
import threading

from trainpod_agent.clock import Clock
from trainpod_agent.config import DeadManSettings
from trainpod_agent.http import HttpError, Log, RetryPolicy, bearer, request, with_retries
from trainpod_agent.logbook import utc_stamp
from trainpod_agent.run_client import RunClient

DONE, RETRY, NEVER = "done", "retry", "never"
DELETE_POLICY = RetryPolicy(retries=8, delay=5.0)


class Liveness:
    def __init__(
        self, settings: DeadManSettings | None, client: RunClient, clock: Clock, state_dir: str,
        heartbeat_s: float, log: Log, delete_policy: RetryPolicy = DELETE_POLICY,
    ) -> None:
        self.settings, self.client, self.clock, self.log = settings, client, clock, log
        self.heartbeat_s, self.delete_policy = heartbeat_s, delete_policy
        self.started0 = self._first_start(os.path.join(state_dir, "deadman-pod"))
        self._next_beat = clock.monotonic()
        self._said_terminating = False
        self.stopped = threading.Event()
        self.terminated = False

    def _first_start(self, path: str) -> float:
        """When this pod first started: kept across container restarts; a new pod (another id) starts afresh."""
        pod_id = self.settings.pod_id if self.settings else ""
        try:
            with open(path) as f:
                pod0, started0 = f.read().split()
            if pod0 == pod_id:
                return float(started0)
        except (OSError, ValueError):
            pass
        now = self.clock.now()
        with open(path, "w") as f:
            f.write("%s %d\n" % (pod_id or "-", int(now)))
        self.client.contact.stamp()  # a new pod: its clock of silence starts now
        return now

    @property
    def every(self) -> float:
        """The loop's cadence: the heartbeat's, at most a second when some setting is that short (tests), else 5 s."""
        values = [self.heartbeat_s]
        if self.settings:
            values += [self.settings.grace_s, self.settings.unreachable_s]
            values += [self.settings.max_runtime_s] if self.settings.max_runtime_s > 0 else []
        return min(self.heartbeat_s, 1.0 if min(values) < 30 else 5.0)

    def heartbeat(self) -> bool:
        try:
            self.client.event({"type": "heartbeat"}, RetryPolicy(retries=0), seq=False)
            return True
        except HttpError as err:
            self.log("heartbeat: %s" % err.why)
            return False

    def tick(self) -> None:
        """One turn of the loop: a heartbeat when due, then the switch's deadlines."""
        beat_ok = None
        if self.clock.monotonic() >= self._next_beat:
            self._next_beat = self.clock.monotonic() + self.heartbeat_s
            beat_ok = self.heartbeat()
        s = self.settings
        if s is None or self.terminated:
            return
        now = self.clock.now()
        if s.max_runtime_s > 0 and now >= self.started0 + s.max_runtime_s + s.grace_s:
            since = int(now - self.started0)
            reason = "max runtime %d s + grace %d s reached (%d s since the pod first started)"
            self._terminate(reason % (s.max_runtime_s, s.grace_s, since))
            return
        last = self.client.contact.last()
        if last is None or now - last < s.unreachable_s:
            return
        # silence: one more report settles it (the heartbeat of this tick, or one now)
        if beat_ok is None:
            self.log("watchdog: no call reached the API for %d s" % (now - last))
            beat_ok = self.heartbeat()
        if not beat_ok:
            self._terminate("no report reached the API for %d s" % (self.clock.now() - last), quiet=True)

    def _terminate(self, reason: str, quiet: bool = False) -> None:
        if self.self_terminate(reason, quiet) != RETRY:
            self.terminated = True

    def run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.clock.sleep(self.every)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="trainpod-liveness", daemon=True)
        thread.start()
        return thread

    def self_terminate(self, reason: str, quiet: bool = False) -> str:
        """DELETE this pod: DONE, RETRY (try again later) or NEVER."""
        s = self.settings
        if s is None:
            return NEVER
        line = "self-terminating: %s" % reason
        self.log(line)
        if not quiet and not self._said_terminating:  # stamped as the log's own lines (the API shows them as sent)
            stamped = "%s %s" % (utc_stamp(self.clock.now()), line)
            self.client.try_event({"type": "log", "lines": [stamped]}, RetryPolicy(retries=0), seq=False)
        self._said_terminating = True
        url = "%s/pods/%s" % (s.runpod_api_url, s.pod_id)
        try:
            with_retries(lambda: request("DELETE", url, bearer(s.pod_key), timeout=30), "self-termination",
                         self.delete_policy, self.clock, self.log)
            return DONE
        except HttpError as err:
            if err.status == 404:
                return DONE  # gone already
            self.log("self-termination failed: %s" % err.why)
            return RETRY if err.retryable else NEVER

    def after_outcome(self, exit_code: int) -> None:
        """The outcome is reported: wait the grace for the worker's DELETE, then delete the pod ourselves."""
        s = self.settings
        if s is None:
            return
        self.log("waiting up to %d s for the worker to delete the pod" % s.grace_s)
        self.clock.sleep(s.grace_s)
        reason = "outcome (exit code %d) reported %d s ago and the pod is still running" % (exit_code, s.grace_s)
        while (result := self.self_terminate(reason)) == RETRY:
            self.clock.sleep(self.delete_policy.delay)
        if result == DONE:
            self.clock.sleep(60)  # deleted: RunPod stops the container (exiting first could restart it)
