"""The run's outputs, as artifacts (docs/artifacts.md): each file is declared (path, size, sha256) and the API answers
how to send it: `api` (PUT through the API), `s3` (one presigned PUT, then complete), `s3-multipart` (presigned PUTs
of `partSizeBytes`, each checked by its sha256 at the bucket, then complete with their ETags) or `stored` (nothing).

Multipart uploads resume: the finished parts (partNumber, etag, sha256) of each file are kept in a JSON state file,
so a run that broke in part 3 goes on at part 3. A resumed file is not declared again (a declaration starts the file
afresh: the API aborts its unfinished upload); if the API or the bucket lost it meanwhile, it starts again once.
Each PUT to the bucket gets a URL asked just before it; one answered 403 is re-issued once before failing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any, cast

from trainpod_agent.clock import Clock
from trainpod_agent.http import HttpError, Log, RetryPolicy, request, with_retries
from trainpod_agent.run_client import RunClient
from trainpod_agent.transfer.common import (
    CHUNK_SIZE,
    FileRange,
    HighWater,
    Progress,
    TransferError,
    read_json,
    sha256_of,
    write_json_atomic,
)

PUT_TIMEOUT_S = 120.0  # connect, each send, and the bucket's answer once the bytes are in
_LOST = (404, 409, 422)  # a resumed upload the API or the bucket no longer knows


class _Resumed(Exception):
    """A resumed multipart upload was lost (the API or the bucket refused it): start the file again."""


def upload_outputs(
    output_dir: str, client: RunClient, clock: Clock, policy: RetryPolicy, log: Log,
    phase: Progress | None = None, *, state_path: str, chunk_size: int = CHUNK_SIZE,
) -> list[str]:
    """Uploads every file under `output_dir` (by relative path); the paths sent. TransferError on the first failure."""
    files = _files(output_dir, state_path)
    if phase is not None:
        phase.total = sum(size for _, _, size in files)
    state = _State(state_path)
    sent: list[str] = []
    for rel, full, size in files:
        up = _FileUpload(rel, full, size, client, clock, policy, log, HighWater(phase), state, chunk_size)
        try:
            up.run()
        except HttpError as err:
            raise TransferError(f"upload of {rel} failed: {err.why}", err.status, err.code) from None
        log(f"uploaded {rel}")
        sent.append(rel)
    return sent


def _files(output_dir: str, state_path: str) -> list[tuple[str, str, int]]:
    """(relative path with /, full path, size) of each regular file, sorted; links are not followed."""
    found = []
    skip = os.path.abspath(state_path)
    for folder, dirs, names in os.walk(output_dir):
        dirs.sort()
        for name in names:
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full) or os.path.abspath(full) == skip:
                continue
            rel = os.path.relpath(full, output_dir).replace(os.sep, "/")
            found.append((rel, full, os.path.getsize(full)))
    return sorted(found)


class _State:
    """{"files": {path: {size, sha256, partSizeBytes, partCount, parts: [{partNumber, etag, sha256}]}}} on disk."""

    def __init__(self, path: str) -> None:
        self.path = path
        data = read_json(path)
        files = data.get("files") if isinstance(data, dict) else None
        self.files: dict[str, Any] = files if isinstance(files, dict) else {}

    def resumable(self, rel: str, size: int, sha256: str) -> dict[str, Any] | None:
        entry = self.files.get(rel)
        try:
            ok = (
                entry["size"] == size and entry["sha256"] == sha256 and int(entry["partSizeBytes"]) > 0
                and int(entry["partCount"]) > 0
                and all(isinstance(p["partNumber"], int) and isinstance(p["etag"], str) for p in entry["parts"])
            )
        except (TypeError, KeyError, ValueError):
            ok = False
        return entry if ok else None

    def put(self, rel: str, entry: dict[str, Any]) -> None:
        self.files[rel] = entry
        self._save()

    def drop(self, rel: str) -> None:
        if self.files.pop(rel, None) is not None:
            self._save()

    def _save(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        write_json_atomic(self.path, {"files": self.files})


class _FileUpload:
    def __init__(
        self, rel: str, full: str, size: int, client: RunClient, clock: Clock, policy: RetryPolicy, log: Log,
        meter: HighWater, state: _State, chunk_size: int,
    ) -> None:
        self.rel, self.full, self.size, self.client = rel, full, size, client
        self.clock, self.policy, self.log, self.meter = clock, policy, log, meter
        self.state, self.chunk_size = state, chunk_size

    def run(self) -> None:
        sha = sha256_of(self.full, chunk_size=self.chunk_size)
        saved = self.state.resumable(self.rel, self.size, sha)
        if saved is not None:
            try:
                self._multipart(saved, resumed=True)
                return
            except _Resumed as lost:
                self.log(f"the unfinished upload of {self.rel} is gone ({lost}); starting it again")
        self.state.drop(self.rel)
        plan = self.client.declare(self.rel, self.size, sha)
        mode = plan.get("mode")
        if mode == "stored":
            self.meter.at(self.size)
        elif mode == "api":
            self._through_api()
        elif mode == "s3":
            self._put(lambda: self.client.upload_url(self.rel), 0, self.size, f"upload {self.rel}")
            self.client.complete(self.rel)
        elif mode == "s3-multipart":
            entry = {"size": self.size, "sha256": sha, "partSizeBytes": int(plan["partSizeBytes"]),
                     "partCount": int(plan["partCount"]), "parts": []}
            self.state.put(self.rel, entry)
            self._multipart(entry, resumed=False)
        else:
            raise TransferError(f"upload of {self.rel} failed: the API answered an unknown upload mode '{mode}'")

    def _through_api(self) -> None:
        def once() -> None:
            with open(self.full, "rb") as f:
                body = FileRange(f, 0, self.size, self.chunk_size, self.meter.at)
                self.client.put_through_api(self.rel, cast(IO[bytes], body), self.size)

        with_retries(once, f"upload {self.rel}", self.policy, self.clock, self.log)

    def _multipart(self, entry: dict[str, Any], resumed: bool) -> None:
        part_size, count = int(entry["partSizeBytes"]), int(entry["partCount"])
        parts: list[dict[str, Any]] = entry["parts"]
        done = {p["partNumber"] for p in parts}
        if resumed:
            self.log(f"resuming {self.rel} at part {min(set(range(1, count + 1)) - done, default=count)}/{count}")
        else:
            self.log(f"uploading {self.rel} in {count} parts of {part_size} bytes")
        try:
            for n in range(1, count + 1):
                offset = (n - 1) * part_size
                length = min(part_size, self.size - offset)
                if n in done:
                    self.meter.at(offset + length)
                    continue
                psha = sha256_of(self.full, offset, length, self.chunk_size)
                headers = self._put(
                    lambda n=n, psha=psha: self.client.upload_url(self.rel, n, psha), offset, length,
                    f"upload {self.rel} part {n}/{count}",
                )
                etag = headers.get("etag")
                if not etag:
                    raise TransferError(f"upload of {self.rel} failed: part {n} answered without an ETag")
                parts.append({"partNumber": n, "etag": etag, "sha256": psha})
                self.state.put(self.rel, entry)
            self.client.complete(self.rel, sorted(parts, key=lambda p: p["partNumber"]))
        except (HttpError, TransferError) as err:
            if resumed and err.status in _LOST:
                raise _Resumed(err.why) from None
            raise
        self.state.drop(self.rel)

    def _put(self, sign: Callable[[], dict[str, Any]], offset: int, length: int, what: str) -> dict[str, str]:
        """One presigned PUT of the file's bytes [offset, offset+length): a fresh URL for each try; the answer's
        headers. A 403 (the URL expired, or the clocks differ) gets one more URL, then fails."""
        reissued = False
        while True:
            try:
                return with_retries(lambda: self._put_once(sign, offset, length), what, self.policy, self.clock,
                                    self.log)
            except HttpError as err:
                if err.status != 403 or reissued:
                    raise
                reissued = True
                self.log(f"{what}: HTTP 403 from the bucket; asking the API for a fresh URL")

    def _put_once(self, sign: Callable[[], dict[str, Any]], offset: int, length: int) -> dict[str, str]:
        try:
            signed = sign()
        except HttpError as err:  # the API's own retries are spent: not retried again here
            raise TransferError(f"upload of {self.rel} failed: {err.why}", err.status, err.code) from None
        url = signed.get("url")
        if not isinstance(url, str) or not url:
            raise TransferError(f"upload of {self.rel} failed: the API's upload URL answer has no url")
        headers = {str(k): str(v) for k, v in (signed.get("headers") or {}).items() if k.lower() != "content-length"}
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/octet-stream"
        with open(self.full, "rb") as f:
            body = FileRange(f, offset, length, self.chunk_size, self.meter.at)
            resp = request(str(signed.get("method") or "PUT"), url, headers, cast(IO[bytes], body), PUT_TIMEOUT_S,
                           length)
        return resp.headers
