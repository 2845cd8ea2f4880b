"""Checkpoints on the supervisor's side (issue 27): the upload of each staged checkpoint in a background thread, so
training never waits for it, and the download of the checkpoint a resumed attempt starts from.

Upload: the trainer child stages each saved folder (ml/checkpoints.py) and announces it; here its files go up as
artifacts `checkpoints/step-000120/<name>` (transfer/upload.py: declare, then through the API or to the bucket), then
`checkpoints/step-000120/trainpod-checkpoint.json` last: a checkpoint without it is incomplete and never resumed
from. The API keeps the last `checkpoints_kept` complete ones (it prunes older ones at each manifest). One upload at
a time; a newer checkpoint announced meanwhile replaces one still waiting (only the newest matters). A failed upload
is logged, never a failure of the run.

Download: `TRAINPOD_RESUME_FROM` (the checkpoint's artifact path) set by the worker; `GET <run>/resume` lists its
files, each fetched (through the API with the run token, or a presigned GET) and checked by sha256.
"""

from __future__ import annotations

import json
import os
import shutil
import threading

from trainpod_agent.clock import Clock
from trainpod_agent.http import HttpError, Log, RetryPolicy, bearer, open_stream, request, with_retries
from trainpod_agent.ml.checkpoints import MANIFEST, step_folder
from trainpod_agent.run_client import RunClient
from trainpod_agent.transfer.common import CHUNK_SIZE, TransferError, sha256_of
from trainpod_agent.transfer.upload import upload_outputs


class CheckpointUploader:
    def __init__(self, client: RunClient, clock: Clock, policy: RetryPolicy, log: Log, state_dir: str) -> None:
        self.client, self.clock, self.policy, self.log, self.state_dir = client, clock, policy, log, state_dir
        self._cond = threading.Condition()
        self._waiting: tuple[int, str] | None = None
        self._busy = False
        self._closed = False
        self.uploaded: list[int] = []
        self._thread = threading.Thread(target=self._loop, name="trainpod-checkpoints", daemon=True)
        self._thread.start()

    def offer(self, step: int, folder: str) -> None:
        """A staged checkpoint to upload (the newest replaces one still waiting, whose staging is removed)."""
        with self._cond:
            if self._closed:
                shutil.rmtree(folder, ignore_errors=True)
                return
            if self._waiting is not None:
                self.log("checkpoint at step %d not uploaded: step %d is newer" % (self._waiting[0], step))
                shutil.rmtree(self._waiting[1], ignore_errors=True)
            self._waiting = (int(step), folder)
            self._cond.notify_all()

    def close(self, wait_s: float = 0.0) -> None:
        """No more checkpoints. wait_s 0: one waiting is dropped (the run is done: they no longer matter); else the
        waiting one and the one on its way get `wait_s` to go up (a failed run: a resume may start from them)."""
        with self._cond:
            self._closed = True
            if self._waiting is not None and wait_s <= 0:
                shutil.rmtree(self._waiting[1], ignore_errors=True)
                self._waiting = None
            self._cond.notify_all()
        if wait_s > 0:
            self._thread.join(wait_s)

    def idle(self) -> bool:
        with self._cond:
            return self._waiting is None and not self._busy

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._waiting is None and not self._closed:
                    self._cond.wait()
                if self._waiting is None:
                    return
                step, folder = self._waiting
                self._waiting, self._busy = None, True
            try:
                self._upload(step, folder)
                self.uploaded.append(step)
            except (TransferError, HttpError, OSError) as err:
                why = getattr(err, "why", None) or str(err)
                self.log("warning: checkpoint at step %d not uploaded: %s" % (step, why))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _upload(self, step: int, folder: str) -> None:
        started = self.clock.monotonic()
        prefix = step_folder(step)
        root = os.path.join(self.state_dir, "checkpoint-upload")
        shutil.rmtree(root, ignore_errors=True)
        files_root = os.path.join(root, "files", prefix)
        os.makedirs(os.path.dirname(files_root), exist_ok=True)
        os.rename(folder, files_root)  # same volume: the staged links move, no bytes copied
        state = os.path.join(root, "uploads.json")
        sent = upload_outputs(
            os.path.join(root, "files"), self.client, self.clock, self.policy, self.log, state_path=state
        )
        files = []
        for rel in sent:
            full = os.path.join(root, "files", rel)
            files.append(
                {"path": rel[len(prefix) + 1 :], "sizeBytes": os.path.getsize(full), "sha256": sha256_of(full)}
            )
        manifest_dir = os.path.join(root, "manifest", prefix)
        os.makedirs(manifest_dir, exist_ok=True)
        with open(os.path.join(manifest_dir, MANIFEST), "w") as f:
            json.dump({"step": step, "files": files, "savedAt": int(self.clock.now())}, f)
        upload_outputs(os.path.join(root, "manifest"), self.client, self.clock, self.policy, self.log, state_path=state)
        size = sum(f["sizeBytes"] for f in files)
        self.log(
            "checkpoint at step %d uploaded to %s: %d files, %d bytes in %.1f s"
            % (step, prefix, len(files), size, self.clock.monotonic() - started)
        )
        shutil.rmtree(root, ignore_errors=True)


def download_checkpoint(
    client: RunClient, token: str, clock: Clock, policy: RetryPolicy, log: Log, target_root: str
) -> tuple[int, str]:
    """The checkpoint this attempt resumes from, into `target_root/checkpoint-<step>`: (step, folder).
    TransferError when it cannot be had."""
    base = (client.artifacts_url or client.events_url).rstrip("/").rsplit("/", 1)[0]
    try:
        plan = with_retries(
            lambda: request("GET", base + "/resume", bearer(token), timeout=30), "resume plan", policy, clock, log
        ).json()
    except HttpError as err:
        raise TransferError("the checkpoint to resume from could not be listed: %s" % err.why) from None
    step = int(plan["step"])
    folder = os.path.join(target_root, "checkpoint-%d" % step)
    os.makedirs(folder, exist_ok=True)
    total = 0
    for entry in plan["files"]:
        rel = str(entry["path"])
        if rel.startswith("/") or ".." in rel.split("/"):
            raise TransferError("the resume plan names a bad path: %r" % rel)
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        headers = bearer(token) if entry.get("auth", True) else {}
        url = str(entry["url"])
        if url.startswith("/"):
            url = base.split("/v1/", 1)[0] + url
        with_retries(
            lambda url=url, headers=headers, path=path: _fetch(url, headers, path),
            "download %s" % rel,
            policy,
            clock,
            log,
        )
        if os.path.getsize(path) != int(entry["sizeBytes"]) or sha256_of(path) != entry["sha256"]:
            raise TransferError("checkpoint file %s does not match its sha256" % rel)
        total += int(entry["sizeBytes"])
    log("resuming from %s (step %d): %d files, %d bytes downloaded" % (plan["path"], step, len(plan["files"]), total))
    return step, folder


def _fetch(url: str, headers: dict[str, str], path: str) -> None:
    resp = open_stream("GET", url, headers, timeout=120)
    try:
        if resp.status >= 300:
            raise HttpError(resp.status, "HTTP %d" % resp.status)
        with open(path + ".part", "wb") as f:
            for block in iter(lambda: resp.read(CHUNK_SIZE), b""):
                f.write(block)
    finally:
        resp.close()
    os.replace(path + ".part", path)
