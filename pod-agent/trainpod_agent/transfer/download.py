"""The run's dataset: its single-use token URL, then (S3 storage) the presigned bucket URL it redirects to.

The token URL answers 200 with the bytes (streamed through the API's disk; a broken transfer releases the token
and the GET is simply tried again) or spends the token on a 302 to a presigned GET of the bucket. That URL is
fetched with retries that resume (`Range: bytes=N-`: a 206 appends, a 200 starts the file again); when it answers
403 (expired) a fresh one comes from the API through the run token (`RunClient.dataset_url`). The bytes go to a
temp file beside the target, renamed over it once their sha256 matches; a mismatch is an error, not retried.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.parse
from typing import IO, Protocol

from trainpod_agent.clock import Clock
from trainpod_agent.http import _NO_ANSWER, HttpError, Log, RetryPolicy, open_stream, with_retries
from trainpod_agent.transfer.common import CHUNK_SIZE, HighWater, Progress, TransferError

TIMEOUT_S = 30.0  # connect, and each read: a transfer that stalls this long is broken (and resumed)
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


class DatasetUrls(Protocol):
    def dataset_url(self) -> dict: ...


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__("redirect")
        self.location = location


class _Sink:
    """The temp file and the sha256 of what it holds, kept in step."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f: IO[bytes] = open(path, "wb")  # closed by close() or download_dataset
        self.size = 0
        self.hash = hashlib.sha256()

    def restart(self) -> None:
        self.f.seek(0)
        self.f.truncate()
        self.size = 0
        self.hash = hashlib.sha256()

    def write(self, block: bytes) -> None:
        self.f.write(block)
        self.hash.update(block)
        self.size += len(block)

    def close(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()


def download_dataset(
    token_url: str, sha256: str, dest_path: str, client: DatasetUrls, clock: Clock, policy: RetryPolicy,
    log: Log, phase: Progress | None = None, chunk_size: int = CHUNK_SIZE,
) -> int:
    """Downloads the dataset to `dest_path` and checks its sha256; the number of bytes. TransferError on failure."""
    folder = os.path.dirname(os.path.abspath(dest_path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(dest_path)}.{os.getpid()}.part")
    sink = _Sink(tmp)
    meter = HighWater(phase)
    try:
        try:
            try:
                _from_token_url(token_url, sink, meter, clock, policy, log, chunk_size)
            except _Redirect as redirect:
                _from_bucket(redirect.location, sink, meter, client, clock, policy, log, chunk_size)
        except HttpError as err:
            raise TransferError(f"dataset download failed: {err.why}", err.status, err.code) from None
        sink.close()
        got = sink.hash.hexdigest()
        if got != sha256.lower():
            raise TransferError(
                f"dataset sha256 mismatch: expected {sha256}, received {got} ({sink.size} bytes); not retried"
            )
        os.replace(tmp, dest_path)
    finally:
        if not sink.f.closed:
            sink.f.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    log(f"dataset downloaded: {sink.size} bytes, sha256 verified")
    return sink.size


def _from_token_url(
    url: str, sink: _Sink, meter: HighWater, clock: Clock, policy: RetryPolicy, log: Log, chunk_size: int,
) -> None:
    def once() -> None:
        resp = open_stream("GET", url, timeout=TIMEOUT_S)
        try:
            status = resp.status
            if status in (301, 302, 303, 307, 308):
                location = resp.headers.get("Location") or ""
                if not location:
                    raise TransferError(f"dataset download failed: HTTP {status} without a Location", status)
                raise _Redirect(urllib.parse.urljoin(url, location))
            if status != 200:
                raise TransferError(f"dataset download failed: HTTP {status} (not retried)", status)
            sink.restart()  # the API streams the whole file again: it serves no ranges
            length = _int(resp.headers.get("Content-Length"))
            meter.set_total(length)
            _copy(resp, sink, meter, length, chunk_size)
        finally:
            resp.close()

    with_retries(once, "dataset download", policy, clock, log)


def _from_bucket(
    url: str, sink: _Sink, meter: HighWater, client: DatasetUrls, clock: Clock, policy: RetryPolicy, log: Log,
    chunk_size: int,
) -> None:
    """The presigned GET, resumed where it broke; a 403 (expired) asks the API for a fresh URL."""
    sink.restart()
    just_reissued = False  # a fresh URL that answers 403 before any byte came is not an expiry: that fails
    while True:
        start = sink.size
        try:
            with_retries(
                lambda u=url: _bucket_once(u, sink, meter, chunk_size), "dataset download from the bucket", policy,
                clock, log,
            )
            return
        except HttpError as err:
            progressed = sink.size > start
            if err.status == 403 and (progressed or not just_reissued):
                log("dataset download from the bucket: HTTP 403 (the URL expired); asking the API for a fresh one")
                url = _reissue(client)
                just_reissued = True
                continue
            if err.retryable and progressed:  # the retries were spent, but bytes came: go on from there
                log(f"dataset download from the bucket: {err.why}; {sink.size} bytes received, going on")
                just_reissued = False
                continue
            raise


def _reissue(client: DatasetUrls) -> str:
    try:
        answer = client.dataset_url()
    except HttpError as err:
        why = f"dataset download failed: a fresh URL was refused: {err.why}"
        raise TransferError(why, err.status, err.code) from None
    url = answer.get("url")
    if not isinstance(url, str) or not url:
        raise TransferError("dataset download failed: the API's fresh URL answer has no url")
    return url


def _bucket_once(url: str, sink: _Sink, meter: HighWater, chunk_size: int) -> None:
    offset = sink.size
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        resp = open_stream("GET", url, headers, timeout=TIMEOUT_S)
    except HttpError as err:
        if err.status == 416 and offset:
            return  # nothing past what we have: the whole object is here (the sha256 tells)
        raise
    try:
        length = _int(resp.headers.get("Content-Length"))
        if resp.status == 206:
            first, total = _content_range(resp.headers.get("Content-Range"))
            if first != offset:
                sink.restart()
                raise HttpError(0, f"the bucket answered a range from byte {first}, not {offset}; starting again")
            meter.set_total(total if total is not None else (offset + length if length is not None else None))
        elif resp.status == 200:
            if offset:
                sink.restart()  # the whole object again: start the file again
            meter.set_total(length)
        else:
            raise HttpError(resp.status, f"HTTP {resp.status} from the bucket")
        _copy(resp, sink, meter, length, chunk_size)
    finally:
        resp.close()


def _copy(resp: IO[bytes], sink: _Sink, meter: HighWater, length: int | None, chunk_size: int) -> None:
    """The answer's body into the sink, `chunk_size` at a time; HttpError(0) (retried) when it breaks off."""
    got = 0
    try:
        while length is None or got < length:
            block = resp.read(chunk_size if length is None else min(chunk_size, length - got))
            if not block:
                break
            sink.write(block)
            got += len(block)
            meter.at(sink.size)
    except _NO_ANSWER as err:
        raise HttpError(0, f"transfer broken after {got} bytes: {type(err).__name__}") from None
    if length is not None and got < length:
        raise HttpError(0, f"transfer broken after {got} of {length} bytes")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None
    return int(match.group(1)), (int(match.group(3)) if match.group(3) != "*" else None)
