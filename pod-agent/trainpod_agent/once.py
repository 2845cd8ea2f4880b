"""A run happens once per pod, however often its command starts (RunPod's templates page warns that a JSON start
command "will run twice"; a container may also restart):
- one agent at a time: a second start while the first runs waits on the first's lock and does nothing meanwhile;
- an outcome is final: once reported (a marker on the volume, written before the report leaves), a later start
  trains nothing again; it reports the same outcome again (the API applies the first only) and waits for the DELETE.
"""

from __future__ import annotations

import fcntl
from typing import IO, Any

from trainpod_agent.http import Log
from trainpod_agent.transfer.common import read_json, write_json_atomic


def hold_run_lock(path: str, log: Log) -> IO[str]:
    """The pod's run lock, held until this process exits (the kernel frees it even on SIGKILL)."""
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another start of this run is going on in this pod: waiting for it to end, doing nothing")
        fcntl.flock(handle, fcntl.LOCK_EX)
        log("the other start ended")
    return handle


class OutcomeMarker:
    """The outcome reported for this deployment, on the pod's volume."""

    def __init__(self, path: str, deployment_id: str) -> None:
        self.path, self.deployment_id = path, deployment_id

    def read(self) -> dict[str, Any] | None:
        saved = read_json(self.path)
        if not isinstance(saved, dict) or saved.get("deploymentId") != self.deployment_id:
            return None
        outcome = saved.get("outcome")
        return outcome if isinstance(outcome, dict) and outcome.get("type") in ("completed", "failed") else None

    def write(self, outcome: dict[str, Any]) -> None:
        write_json_atomic(self.path, {"deploymentId": self.deployment_id, "outcome": outcome})


def exit_code_of(outcome: dict[str, Any]) -> int:
    code = outcome.get("exitCode", 0 if outcome.get("type") == "completed" else 1)
    return code if isinstance(code, int) else 1
