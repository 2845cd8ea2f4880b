"""The artifact upload against a fake API and bucket (tests/transfer_fakes.py): each mode, multipart resumed from
the state file after a break in part 3, a presigned URL re-issued after a 403, reads a chunk at a time."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from transfer_fakes import TOKEN, FakeCloud

import trainpod_agent.transfer.common as common
import trainpod_agent.transfer.upload as upload
from trainpod_agent.clock import FakeClock
from trainpod_agent.http import RetryPolicy
from trainpod_agent.run_client import RunClient
from trainpod_agent.transfer.common import TransferError
from trainpod_agent.transfer.upload import upload_outputs

PART = 64 * 1024
POLICY = RetryPolicy(retries=2, delay=2.0)
FILES = {
    "adapter_config.json": b'{"r": 16}',
    "adapter_model.safetensors": bytes(range(256)) * 1000,  # 256,000 bytes: 4 parts of 64 KiB
    "merged/model.safetensors": b"m" * (PART * 5 + 123),  # 6 parts, the last one 123 bytes
    "merged/empty.txt": b"",
}
ORDER = sorted(FILES)


class Phase:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0

    def advance(self, n: int) -> None:
        self.done += n


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    fake = FakeCloud(part_size=PART).start()
    yield fake
    fake.stop()


class Run:
    def __init__(self, cloud: FakeCloud, tmp: str, files: dict[str, bytes]) -> None:
        self.cloud, self.clock, self.lines, self.phase = cloud, FakeClock(), [], Phase()
        self.out = os.path.join(tmp, "fine_tuned_model")
        for rel, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(self.out, rel)), exist_ok=True)
            with open(os.path.join(self.out, rel), "wb") as f:
                f.write(data)
        events, artifacts = cloud.run_urls()
        state = os.path.join(tmp, "trainpod")
        self.client = RunClient(events, artifacts, TOKEN, self.clock, state, POLICY, self.lines.append)
        self.state_path = os.path.join(state, "uploads.json")

    def upload(self, chunk_size: int = 1024 * 1024) -> list[str]:
        return upload_outputs(self.out, self.client, self.clock, POLICY, self.lines.append, self.phase,
                              state_path=self.state_path, chunk_size=chunk_size)

    def puts(self, path: str) -> list[Any]:
        """The part number (None: a single PUT) of every PUT of `path` that reached the bucket, in order."""
        return [s.query.get("part") and int(s.query["part"]) for s in self.cloud.requests("PUT", f"/bucket/put/{path}")]


@pytest.fixture
def run(cloud: FakeCloud, tmp_path) -> Run:
    return Run(cloud, str(tmp_path), FILES)


def declared(cloud: FakeCloud) -> list[dict[str, Any]]:
    return [json.loads(s.body) for s in cloud.requests("POST", "/v1/runs/dep-1/artifacts") if s.path.endswith("s")]


def test_mode_api_puts_each_file_through_the_api_with_the_run_token(run: Run) -> None:
    run.cloud.mode = "api"
    assert run.upload() == ORDER
    assert [(d["path"], d["sizeBytes"], d["sha256"]) for d in declared(run.cloud)] == [
        (p, len(FILES[p]), hashlib.sha256(FILES[p]).hexdigest()) for p in ORDER
    ]
    api_puts = run.cloud.requests("PUT", "/v1/runs/dep-1/artifacts/")
    assert [s.path.split("/artifacts/")[1] for s in api_puts] == ORDER
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in api_puts)
    assert run.cloud.objects == FILES
    assert (run.phase.total, run.phase.done) == (sum(map(len, FILES.values())), sum(map(len, FILES.values())))
    assert [line for line in run.lines if line.startswith("uploaded")] == [f"uploaded {p}" for p in ORDER]


def test_mode_api_is_retried_by_opening_the_file_again(run: Run) -> None:
    run.cloud.mode = "api"
    run.cloud.put_script[("merged/model.safetensors", None)] = ["reset"]
    run.upload()
    assert run.cloud.objects["merged/model.safetensors"] == FILES["merged/model.safetensors"]
    assert run.clock.slept == [2.0]
    assert run.phase.done == run.phase.total  # the bytes sent twice are counted once


def test_mode_s3_puts_to_the_presigned_url_with_its_checksum_then_completes(run: Run) -> None:
    run.cloud.mode = "s3"
    run.upload()
    assert run.cloud.objects == FILES
    put = run.cloud.requests("PUT", "/bucket/put/adapter_config.json")[0]
    assert put.headers["x-amz-checksum-sha256"] and put.headers["content-length"] == str(len(FILES[ORDER[0]]))
    assert "authorization" not in put.headers  # the run token never goes to the bucket
    completes = [json.loads(s.body) for s in run.cloud.requests("POST", "/v1/runs/dep-1/artifacts/complete")]
    assert completes == [{"path": p} for p in ORDER]


def test_mode_stored_sends_nothing(run: Run) -> None:
    run.cloud.mode = "stored"
    assert run.upload() == ORDER
    assert run.cloud.requests("PUT", "/") == [] and run.cloud.requests("POST", "/v1/runs/dep-1/artifacts/") == []
    assert run.phase.done == run.phase.total


def test_an_unknown_mode_fails(run: Run) -> None:
    run.cloud.mode = "ftp"
    with pytest.raises(TransferError) as failed:
        run.upload()
    assert str(failed.value) == "upload of adapter_config.json failed: the API answered an unknown upload mode 'ftp'"


def test_mode_s3_multipart_sends_each_part_with_its_sha256_and_completes_with_the_etags(run: Run) -> None:
    run.cloud.mode = "auto"
    run.upload()
    assert run.cloud.objects == FILES
    assert run.puts("merged/model.safetensors") == [1, 2, 3, 4, 5, 6]
    urls = [json.loads(s.body) for s in run.cloud.requests("POST", "/v1/runs/dep-1/artifacts/url")]
    data = FILES["merged/model.safetensors"]
    assert [u["sha256"] for u in urls if u["path"] == "merged/model.safetensors"] == [
        hashlib.sha256(data[i:i + PART]).hexdigest() for i in range(0, len(data), PART)
    ]
    assert f"uploading merged/model.safetensors in 6 parts of {PART} bytes" in run.lines
    assert not os.path.exists(run.state_path) or json.load(open(run.state_path)) == {"files": {}}


def test_multipart_broken_in_part_3_resumes_at_part_3(run: Run) -> None:
    run.cloud.mode = "auto"
    path = "merged/model.safetensors"
    run.cloud.put_script[(path, 3)] = ["reset"] * 3  # the first try and both retries
    with pytest.raises(TransferError) as failed:
        run.upload()
    assert str(failed.value).startswith(f"upload of {path} failed: no answer") and failed.value.status == 0
    assert str(failed.value).endswith("(3 attempts)")
    assert run.puts(path) == [1, 2, 3, 3, 3]
    saved = json.load(open(run.state_path))["files"][path]
    assert [p["partNumber"] for p in saved["parts"]] == [1, 2]

    assert run.upload() == ORDER  # run again: parts 1-2 are not sent again
    assert run.puts(path) == [1, 2, 3, 3, 3, 3, 4, 5, 6]
    assert [d["path"] for d in declared(run.cloud)].count(path) == 1  # a re-declaration would restart the upload
    assert run.cloud.objects[path] == FILES[path]
    assert f"resuming {path} at part 3/6" in run.lines
    assert json.load(open(run.state_path)) == {"files": {}}


def test_a_resumed_upload_the_api_lost_starts_again(run: Run) -> None:
    run.cloud.mode = "auto"
    path = "merged/model.safetensors"
    run.cloud.put_script[(path, 3)] = ["reset"] * 3
    with pytest.raises(TransferError):
        run.upload()
    run.cloud.uploads_lost.add(path)  # e.g. swept as abandoned: its part URLs answer 409
    run.upload()
    assert [d["path"] for d in declared(run.cloud)].count(path) == 2
    assert run.puts(path) == [1, 2, 3, 3, 3, 1, 2, 3, 4, 5, 6]
    assert run.cloud.objects[path] == FILES[path]
    assert any(line.startswith(f"the unfinished upload of {path} is gone") for line in run.lines)


def test_a_403_from_the_bucket_gets_one_fresh_url(run: Run) -> None:
    run.cloud.mode = "auto"
    run.cloud.put_script[("merged/model.safetensors", 2)] = ["403"]
    run.cloud.put_script[("adapter_config.json", None)] = ["403"]
    run.upload()
    assert run.cloud.objects == FILES
    urls = [json.loads(s.body) for s in run.cloud.requests("POST", "/v1/runs/dep-1/artifacts/url")]
    assert [u.get("partNumber") for u in urls if u["path"] == "merged/model.safetensors"] == [1, 2, 2, 3, 4, 5, 6]
    assert [u for u in urls if u["path"] == "adapter_config.json"] == [{"path": "adapter_config.json"}] * 2
    assert run.clock.slept == []


def test_a_second_403_fails(run: Run) -> None:
    run.cloud.mode = "s3"
    run.cloud.put_script[("adapter_config.json", None)] = ["403", "403"]
    with pytest.raises(TransferError) as failed:
        run.upload()
    assert str(failed.value) == "upload of adapter_config.json failed: HTTP 403 (not retried)"
    assert failed.value.status == 403


def test_an_api_error_names_its_code_and_is_not_retried(run: Run) -> None:
    run.cloud.answers["POST /v1/runs/dep-1/artifacts"] = [(413, "ARTIFACT_QUOTA_EXCEEDED")]
    with pytest.raises(TransferError) as failed:
        run.upload()
    assert str(failed.value) == "upload of adapter_config.json failed: HTTP 413 ARTIFACT_QUOTA_EXCEEDED (not retried)"
    assert (failed.value.status, failed.value.code) == (413, "ARTIFACT_QUOTA_EXCEEDED")


def test_no_file_is_read_whole(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    chunk = 4096
    reads: list[int] = []

    class Spy:
        def __init__(self, f: Any) -> None:
            self.f = f

        def read(self, n: int = -1) -> bytes:
            assert n is not None and n >= 0, "a read of the whole file"
            block = self.f.read(n)
            reads.append(len(block))
            return block

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.f.close()

    def spy_open(path: str, mode: str = "r", *args: Any) -> Any:
        f = open(path, mode, *args)
        return Spy(f) if mode == "rb" else f  # the files read, not the state file

    for module in (common, upload):
        monkeypatch.setattr(module, "open", spy_open, raising=False)
    for mode in ("auto", "api"):
        run.cloud.mode = mode
        run.cloud.objects.clear()
        run.upload(chunk_size=chunk)
        assert run.cloud.objects == FILES
    assert max(reads) == chunk and sum(reads) > 4 * sum(map(len, FILES.values()))


def test_links_are_not_followed_and_an_empty_folder_uploads_nothing(cloud: FakeCloud, tmp_path) -> None:
    run = Run(cloud, str(tmp_path), {"a.bin": b"a"})
    os.symlink("/etc/hostname", os.path.join(run.out, "link"))
    assert run.upload() == ["a.bin"]
    empty = Run(cloud, str(tmp_path / "other"), {})
    assert empty.upload() == []
