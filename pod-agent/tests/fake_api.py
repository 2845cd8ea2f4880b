"""A small HTTP server on 127.0.0.1 standing in for the trainpod API (and RunPod's DELETE): it records every
request and answers from a script of (status, body) per path, else 202 {}."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FakeApi:
    seen: list[Seen] = field(default_factory=list)
    # path -> list of answers used in order (the last one repeats): (status, body) or "reset" (connection closed)
    script: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def start(self) -> FakeApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answers = api.script.get(self.path.split("?")[0]) or [(202, {})]
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if answer == "reset":
                    self.connection.close()
                    self.close_connection = True
                    return
                status, payload = answer
                raw = isinstance(payload, bytes)
                data = payload if raw else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream" if raw else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server.server_port

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [s.json() for s in self.seen if s.path.endswith("/events")]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]
