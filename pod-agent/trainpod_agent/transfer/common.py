"""What the dataset download and the artifact upload share: the error, progress, streamed reads of a file.

Files are never held in memory: every read is at most `chunk_size` bytes (1 MiB unless a test makes it smaller).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import IO, Any, Protocol

CHUNK_SIZE = 1024 * 1024


class TransferError(Exception):
    """A transfer that failed for good: `why` names the HTTP status and the API's error code (never a URL)."""

    def __init__(self, why: str, status: int = 0, code: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.status = status
        self.code = code


class Progress(Protocol):
    """The phase being walked (phases.py): `total` set once known, `advance(n)` as the bytes move."""

    total: int | None

    def advance(self, n: int) -> None: ...


class HighWater:
    """Advances a Progress by the bytes past the furthest point reached: bytes sent again after a retry or a
    restart are not counted twice."""

    def __init__(self, phase: Progress | None) -> None:
        self.phase = phase
        self.reached = 0

    def at(self, position: int) -> None:
        if position > self.reached:
            if self.phase is not None:
                self.phase.advance(position - self.reached)
            self.reached = position

    def add(self, n: int) -> None:
        self.at(self.reached + n)

    def set_total(self, total: int | None) -> None:
        if self.phase is not None and total is not None:
            self.phase.total = total


def sha256_of(path: str, offset: int = 0, length: int | None = None, chunk_size: int = CHUNK_SIZE) -> str:
    """The sha256 (hex) of a file, or of `length` bytes of it from `offset`, read `chunk_size` at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        left = length
        while left is None or left > 0:
            block = f.read(chunk_size if left is None else min(chunk_size, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h.hexdigest()


class FileRange:
    """`length` bytes of an open file from `offset`, as a body http.client sends by read() calls, at most
    `chunk_size` bytes each; `on_read(position)` gets the file position reached after each read."""

    def __init__(
        self, f: IO[bytes], offset: int, length: int, chunk_size: int = CHUNK_SIZE,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self.f, self.offset, self.left, self.chunk_size, self.on_read = f, offset, length, chunk_size, on_read
        f.seek(offset)
        self.position = offset

    def read(self, n: int = -1) -> bytes:
        want = self.left if n is None or n < 0 else min(n, self.left)
        block = self.f.read(min(want, self.chunk_size)) if want > 0 else b""
        self.left -= len(block)
        self.position += len(block)
        if block and self.on_read is not None:
            self.on_read(self.position)
        return block


def write_json_atomic(path: str, value: Any) -> None:
    """The whole JSON file or the one before: written aside, flushed, then renamed over."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str) -> Any:
    """The JSON in `path`; None when it is missing or unreadable (a state file is only ever a help)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
