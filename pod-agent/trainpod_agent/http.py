"""HTTP for the agent: the standard library only, a timeout on every call, one retry policy.

Retried: no answer (refused, reset, DNS, timeout, a transfer broken mid-way) and HTTP 408, 429, 5xx. Not retried:
every other answer (401, 403, 404...): the caller decides (e.g. re-issue a URL on 403). Redirects are never
followed here: a 3xx is an answer the caller reads (the dataset token URL answers 302 to the bucket).
No URL, header or body is ever put in an error message or a log line (URLs carry tokens).
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TypeVar

from trainpod_agent.clock import Clock

T = TypeVar("T")
Log = Callable[[str], None]


class HttpError(Exception):
    """A call that failed: `status` 0 when nothing answered; `code` the API's error code when it sent one."""

    def __init__(self, status: int, why: str, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(why)
        self.status = status
        self.why = why
        self.code = code
        self.headers = headers or {}

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in (408, 429) or self.status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """The first try and `retries` more, `delay` seconds apart."""

    retries: int = 5
    delay: float = 2.0


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> dict:
        value = json.loads(self.body.decode("utf-8") or "null")
        if not isinstance(value, dict):
            raise HttpError(self.status, "HTTP %d: the answer is not a JSON object" % self.status)
        return value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 (urllib's signature)
        return None


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
_NO_ANSWER = (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError, http.client.HTTPException, OSError)


def api_error_code(body: bytes) -> str | None:
    """CODE when `body` is the API's JSON error {"error": {"code": CODE, ...}}."""
    try:
        code = json.loads(body[:65536].decode("utf-8")).get("error", {}).get("code")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return code if isinstance(code, str) and 0 < len(code) <= 64 else None


def _headers(raw) -> dict[str, str]:  # noqa: ANN001 (http.client.HTTPMessage)
    return {k.lower(): v for k, v in raw.items()} if raw is not None else {}


def open_stream(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes | IO[bytes] | None = None,
    timeout: float = 30.0, length: int | None = None,
) -> http.client.HTTPResponse:
    """One request; the open response (2xx or 3xx) to read as a stream. HttpError for any other answer or none."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    if length is not None:
        req.add_header("Content-Length", str(length))
    try:
        return _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        if 300 <= err.code < 400:
            return err  # type: ignore[return-value]  (an HTTPError is a response too)
        data = err.read(65536) if err.fp is not None else b""
        code = api_error_code(data)
        why = "HTTP %d%s" % (err.code, " " + code if code else "")
        raise HttpError(err.code, why, code, _headers(err.headers)) from None
    except _NO_ANSWER as err:
        raise HttpError(0, "no answer: %s" % type(err).__name__ + _reason(err)) from None


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    text = str(reason if reason is not None else err)
    # an OSError's text never holds the URL; keep it short all the same
    return " (%s)" % text[:200] if text else ""


def request(
    method: str, url: str, headers: dict[str, str] | None = None, body: bytes | IO[bytes] | None = None,
    timeout: float = 30.0, length: int | None = None,
) -> Response:
    """One request, the whole answer read (for small JSON answers)."""
    resp = open_stream(method, url, headers, body, timeout, length)
    try:
        data = resp.read()
    except _NO_ANSWER as err:
        raise HttpError(0, "answer broken: %s" % type(err).__name__ + _reason(err)) from None
    finally:
        resp.close()
    return Response(resp.status, _headers(resp.headers), data)


def with_retries(call: Callable[[], T], what: str, policy: RetryPolicy, clock: Clock, log: Log | None = None) -> T:
    """call() until it succeeds or fails with what a retry cannot fix; HttpError.why then counts the attempts."""
    attempt = 0
    while True:
        try:
            return call()
        except HttpError as err:
            if not err.retryable:
                err.why += " (not retried)"
                raise
            if attempt >= policy.retries:
                err.why += " (%d attempts)" % (attempt + 1)
                raise
            attempt += 1
            if log is not None:
                log("%s: %s; retry %d/%d in %g s" % (what, err.why, attempt, policy.retries, policy.delay))
            clock.sleep(policy.delay)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}
