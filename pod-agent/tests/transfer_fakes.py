"""A fake trainpod API and a fake bucket in one threaded HTTP server on 127.0.0.1, for the transfer tests.

The API: the dataset's token URL (200 with the bytes, or a 302 to the bucket that spends the token), the run's
dataset URL re-issue, and the artifact routes (declare, url, complete, PUT through the API). The bucket: presigned
GETs with Range, presigned PUTs of whole files and parts (x-amz-checksum-sha256 checked, ETag answered). Tests
script failures: answers per route, transfers broken after N bytes, connections reset, expired signatures.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import struct
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

RUN = "dep-1"
TOKEN = "tp_run_secret_token"
DS_TOKEN = "tp_ds_secret_token"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    sent: int = 0  # bytes of the answer's body written
    received: int = 0  # bytes of the request's body read


@dataclass
class FakeCloud:
    data: bytes = b""
    token_mode: str = "302"  # "200": the API streams the bytes; "302": a redirect to the bucket
    # scripted answers, used in order before the normal one: (status, code) or "reset"
    answers: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    break_after: list[int] = field(default_factory=list)  # bucket GETs: bytes sent before the connection drops
    expired: set[int] = field(default_factory=set)  # signatures the bucket refuses (403)
    expire_after_use: bool = False  # each signature expires once it was used
    ignore_range: bool = False  # the bucket answers 200 (the whole object) to a Range
    mode: str = "s3"  # the declared files' upload mode ("auto": s3 or s3-multipart by part_size)
    part_size: int = 64 * 1024
    put_script: dict[tuple[str, int | None], list[str]] = field(default_factory=lambda: defaultdict(list))
    seen: list[Seen] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)
    parts: dict[tuple[str, int], bytes] = field(default_factory=dict)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads_lost: set[str] = field(default_factory=set)  # paths whose multipart upload the API forgot (409)
    sig: int = 0
    spent: bool = False

    # --- the server ---
    def start(self) -> FakeCloud:
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                self.close_connection = True
                cloud._handle(self)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/v1/datasets/download?token={DS_TOKEN}"

    def run_urls(self) -> tuple[str, str]:
        base = f"{self.url}/v1/runs/{RUN}"
        return f"{base}/events", f"{base}/artifacts"

    def requests(self, method: str, path_prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]

    # --- answers ---
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        seen = Seen(h.command, unquote(parts.path), query, {k.lower(): v for k, v in h.headers.items()})
        self.seen.append(seen)
        path = re.sub(r"/artifacts/.+$", "/artifacts/*", seen.path) if h.command == "PUT" else seen.path
        route = f"{h.command} {path}"
        if h.command != "PUT":
            length = int(h.headers.get("Content-Length") or 0)
            seen.body = h.rfile.read(length) if length else b""
        scripted = self.answers.get(route)
        if scripted:
            answer = scripted.pop(0)
            if answer == "reset":
                return _reset(h)
            return _json(h, answer[0], {"error": {"code": answer[1], "message": "scripted"}})
        if seen.path.startswith("/v1/runs/") and seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return _json(h, 401, {"error": {"code": "TOKEN_INVALID", "message": "run token is invalid"}})
        if route == "GET /v1/datasets/download":
            return self._token(h, seen)
        if route == "GET /bucket/dataset":
            return self._bucket_get(h, seen)
        if route == f"POST /v1/runs/{RUN}/dataset/url":
            return _json(h, 200, {"url": self._signed_get(), "expiresAt": "2030-01-01T00:00:00.000Z"})
        if route == f"POST /v1/runs/{RUN}/artifacts":
            return self._declare(h, json.loads(seen.body))
        if route == f"POST /v1/runs/{RUN}/artifacts/url":
            return self._upload_url(h, json.loads(seen.body))
        if route == f"POST /v1/runs/{RUN}/artifacts/complete":
            return self._complete(h, json.loads(seen.body))
        if route == f"PUT /v1/runs/{RUN}/artifacts/*":
            path = seen.path.split("/artifacts/", 1)[1]
            return self._put(h, seen, path, None, self.declared[path]["sha256"])
        if seen.method == "PUT" and seen.path.startswith("/bucket/put/"):
            return self._bucket_put(h, seen)
        return _json(h, 404, {"error": {"code": "NOT_FOUND", "message": "no such route"}})

    def _signed_get(self) -> str:
        self.sig += 1
        return f"{self.url}/bucket/dataset?X-Amz-Signature=sig{self.sig}"

    def _token(self, h: BaseHTTPRequestHandler, seen: Seen) -> None:
        if self.spent:
            return _json(h, 401, {"error": {"code": "TOKEN_USED", "message": "download token was already used"}})
        if self.token_mode == "302":
            self.spent = True
            h.send_response(302)
            h.send_header("Location", self._signed_get())
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        self._send_bytes(h, seen, 200, 0)

    def _bucket_get(self, h: BaseHTTPRequestHandler, seen: Seen) -> None:
        sig = int(seen.query.get("X-Amz-Signature", "sig0")[3:])
        if sig in self.expired:
            return _xml(h, 403, "AccessDenied")
        if self.expire_after_use:
            self.expired.add(sig)
        match = re.match(r"bytes=(\d+)-$", seen.headers.get("range", ""))
        if match and not self.ignore_range:
            start = int(match.group(1))
            if start >= len(self.data):
                return _xml(h, 416, "InvalidRange")
            return self._send_bytes(h, seen, 206, start)
        self._send_bytes(h, seen, 200, 0)

    def _send_bytes(self, h: BaseHTTPRequestHandler, seen: Seen, status: int, start: int) -> None:
        body = self.data[start:]
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{len(self.data) - 1}/{len(self.data)}")
        h.end_headers()
        cut = self.break_after.pop(0) if self.break_after else None
        out = body if cut is None else body[:cut]
        h.wfile.write(out)
        h.wfile.flush()
        seen.sent = len(out)
        if cut is not None:  # closed (FIN): the client gets every byte sent, then the end before Content-Length
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_WR)

    def _declare(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        path, size = body["path"], body["sizeBytes"]
        self.declared[path] = body
        self.uploads_lost.discard(path)  # a declaration starts a new upload
        mode = self.mode
        if mode == "auto":
            mode = "s3-multipart" if size > self.part_size else "s3"
        count = -(-size // self.part_size) if mode == "s3-multipart" else 1
        part = self.part_size if mode == "s3-multipart" else size
        _json(h, 201, {"path": path, "mode": mode, "partSizeBytes": part, "partCount": count})

    def _upload_url(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        path, n = body["path"], body.get("partNumber")
        if path not in self.declared or (n is not None and path in self.uploads_lost):
            return _json(h, 409, {"error": {"code": "CONFLICT", "message": "no upload in progress"}})
        self.sig += 1
        sha = body.get("sha256") if n is not None else self.declared[path]["sha256"]
        q = f"sig={self.sig}" + (f"&part={n}" if n is not None else "")
        headers = {"content-length": "0", "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(sha)).decode()}
        url = f"{self.url}/bucket/put/{quote(path)}?{q}"
        _json(h, 200, {"method": "PUT", "url": url, "headers": headers, "expiresAt": "2030-01-01T00:00:00.000Z"})

    def _bucket_put(self, h: BaseHTTPRequestHandler, seen: Seen) -> None:
        path = seen.path[len("/bucket/put/"):]
        n = int(seen.query["part"]) if "part" in seen.query else None
        want = base64.b64decode(seen.headers.get("x-amz-checksum-sha256", "")).hex()
        self._put(h, seen, path, n, want)

    def _put(self, h: BaseHTTPRequestHandler, seen: Seen, path: str, n: int | None, want: str) -> None:
        script = self.put_script.get((path, n))
        action = script.pop(0) if script else None
        length = int(seen.headers.get("content-length") or 0)
        if action == "403":
            h.rfile.read(length)  # then refused (an early answer would break the client's send: a retry, not a 403)
            return _xml(h, 403, "AccessDenied")
        digest, chunks = hashlib.sha256(), []
        while seen.received < length:
            block = h.rfile.read(min(8192, length - seen.received))
            if not block:
                break
            seen.received += len(block)
            digest.update(block)
            chunks.append(block)
            if action == "reset" and seen.received >= length // 2:
                return _reset(h)
        if digest.hexdigest() != want:
            return _xml(h, 400, "BadDigest")
        etag = f'"{hashlib.md5(b"".join(chunks)).hexdigest()}"'  # noqa: S324 (S3's ETag)
        if n is None:
            self.objects[path] = b"".join(chunks)
        else:
            self.parts[(path, n)] = b"".join(chunks)
        h.send_response(200 if path in self.declared and seen.path.startswith("/bucket") else 201)
        h.send_header("ETag", etag)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"{}")

    def _complete(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        path = body["path"]
        decl = self.declared[path]
        if body.get("parts") is not None:
            if path in self.uploads_lost:
                return _json(h, 409, {"error": {"code": "CONFLICT", "message": "no upload in progress"}})
            whole = b""
            for i, p in enumerate(body["parts"], start=1):
                data = self.parts[(path, p["partNumber"])]
                md5 = hashlib.md5(data).hexdigest()  # noqa: S324
                assert p["partNumber"] == i and p["etag"] == f'"{md5}"'
                assert p["sha256"] == hashlib.sha256(data).hexdigest()
                whole += data
            self.objects[path] = whole
        if hashlib.sha256(self.objects.get(path, b"?")).hexdigest() != decl["sha256"]:
            return _json(h, 422, {"error": {"code": "CHECKSUM_MISMATCH", "message": "differs"}})
        _json(h, 200, {"path": path, "sizeBytes": decl["sizeBytes"], "sha256": decl["sha256"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the connections the tests reset on purpose


def _json(h: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _xml(h: BaseHTTPRequestHandler, status: int, code: str) -> None:
    data = f"<Error><Code>{code}</Code></Error>".encode()
    h.send_response(status)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Drops the connection with a TCP reset (SO_LINGER 0), as a broken network does."""
    h.close_connection = True
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass
