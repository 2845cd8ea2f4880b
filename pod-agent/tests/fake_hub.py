"""A small Hugging Face hub on 127.0.0.1 for the push tests: the calls huggingface_hub's create_repo and
upload_folder make (huggingface_hub 2.4: POST /api/repos/create, POST /api/models/{repo}/preupload/{rev}, POST
/api/models/{repo}/commit/{rev} with the NDJSON commit, GET /api/models/{repo} after a refused create), a token
checked on each, and answers to fail with scripted per call. Every file is answered `regular` at preupload, so it
travels inline (base64) in the commit: no LFS or Xet storage to fake.

Also a process for the TypeScript e2e: `python fake_hub.py TOKEN` prints its URL on stdout; GET /_fake/repos/{repo}
answers the files it holds ({path: size}).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CALLS = ("create", "preupload", "commit", "repo_info", "validate")


@dataclass
class FakeHub:
    token: str = "hf_fake_write_token"
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)
    # call name (CALLS) -> HTTP statuses answered in order before the call succeeds (an empty list: it succeeds)
    fail: dict[str, list[int]] = field(default_factory=dict)
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, authorization header)
    url: str = ""

    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                auth = self.headers.get("Authorization") or ""
                hub.seen.append((self.command, path, auth))
                if path.startswith("/_fake/repos/"):
                    files = hub.repos.get(path[len("/_fake/repos/"):])
                    return self._answer(200 if files is not None else 404,
                                        {k: len(v) for k, v in (files or {}).items()})
                call, repo = _route(self.command, path)
                if call is None:
                    return self._answer(404, {"error": "no such route in the fake hub"})
                if auth != "Bearer " + hub.token:
                    return self._answer(401, {"error": "Invalid credentials in Authorization header"})
                statuses = hub.fail.get(call) or []
                if statuses:
                    return self._answer(statuses.pop(0), {"error": "scripted failure"})
                status, answer = hub.handle(call, repo, body)
                self._answer(status, answer)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, call: str, repo: str, body: bytes) -> tuple[int, Any]:
        if call == "create":
            req = json.loads(body)
            name = "%s/%s" % (req.get("organization"), req["name"])
            if name in self.repos:
                return 409, {"error": "You already created this model repo", "url": "%s/%s" % (self.url, name)}
            self.repos[name] = {}
            return 200, {"url": "%s/%s" % (self.url, name)}
        if call == "validate":
            return 200, {"errors": [], "warnings": []}
        if repo not in self.repos:
            return 404, {"error": "Repository not found"}
        if call == "repo_info":
            return 200, {"id": repo, "sha": "0" * 40, "private": True}
        if call == "preupload":
            files = json.loads(body)["files"]
            return 200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
        return self._commit(repo, body)

    def _commit(self, repo: str, body: bytes) -> tuple[int, Any]:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        added = {}
        for line in lines:
            if line["key"] == "file":
                added[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
            elif line["key"] != "header":
                return 400, {"error": "the fake hub takes inline files only, not %s" % line["key"]}
        self.repos[repo].update(added)
        oid = hashlib.sha1(body).hexdigest()
        self.commits.append({"repo": repo, "summary": header.get("summary"), "files": sorted(added), "oid": oid})
        return 200, {"commitUrl": "%s/%s/commit/%s" % (self.url, repo, oid), "commitOid": oid, "pullRequestUrl": None}


def _route(method: str, path: str) -> tuple[str | None, str]:
    parts = path.strip("/").split("/")
    if method == "POST" and path == "/api/repos/create":
        return "create", ""
    if method == "POST" and path == "/api/validate-yaml":
        return "validate", ""
    if len(parts) >= 4 and parts[:2] == ["api", "models"]:
        repo = "%s/%s" % (parts[2], parts[3])
        if method == "GET" and len(parts) in (4, 6):
            return "repo_info", repo
        if method == "POST" and len(parts) >= 6 and parts[4] in ("preupload", "commit"):
            return parts[4], repo
    return None, ""


if __name__ == "__main__":
    server = FakeHub(token=sys.argv[1] if len(sys.argv) > 1 else FakeHub.token).start()
    print(server.url, flush=True)
    threading.Event().wait()
