"""The dataset download against a fake API and bucket (tests/transfer_fakes.py): the token URL's 200 and 302, resume
with Range, re-issue of an expired presigned URL through the run token, what is retried and what is not."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest
from transfer_fakes import DS_TOKEN, TOKEN, FakeCloud

from trainpod_agent.clock import FakeClock
from trainpod_agent.http import RetryPolicy
from trainpod_agent.run_client import RunClient
from trainpod_agent.transfer.common import TransferError
from trainpod_agent.transfer.download import download_dataset

CHUNK = 16 * 1024
DATA = b"".join(b'{"prompt":"q%d","completion":"a%d"}\n' % (i, i) for i in range(12_000))  # ~430 KB
SHA = hashlib.sha256(DATA).hexdigest()
POLICY = RetryPolicy(retries=3, delay=2.0)


class Phase:
    def __init__(self) -> None:
        self.total: int | None = None
        self.steps: list[int] = []

    def advance(self, n: int) -> None:
        self.steps.append(n)


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    fake = FakeCloud(data=DATA).start()
    yield fake
    fake.stop()


class Run:
    def __init__(self, cloud: FakeCloud, tmp: str) -> None:
        self.cloud, self.clock, self.lines, self.phase = cloud, FakeClock(), [], Phase()
        events, artifacts = cloud.run_urls()
        self.client = RunClient(events, artifacts, TOKEN, self.clock, os.path.join(tmp, "state"), POLICY, self.log)
        self.dest = os.path.join(tmp, "work", "dataset.jsonl")

    def log(self, line: str) -> None:
        self.lines.append(line)

    def download(self, sha: str = SHA) -> int:
        return download_dataset(self.cloud.token_url, sha, self.dest, self.client, self.clock, POLICY, self.log,
                                self.phase, chunk_size=CHUNK)

    def check_file(self) -> None:
        with open(self.dest, "rb") as f:
            assert f.read() == DATA
        assert os.listdir(os.path.dirname(self.dest)) == ["dataset.jsonl"]  # no temp file left
        assert self.phase.total == len(DATA) and sum(self.phase.steps) == len(DATA)
        assert max(self.phase.steps) <= CHUNK  # streamed, a chunk at a time
        secret_free(self.lines)


def secret_free(lines: list[str]) -> None:
    text = "\n".join(lines)
    for secret in (DS_TOKEN, TOKEN, "127.0.0.1", "Signature", "http"):
        assert secret not in text


@pytest.fixture
def run(cloud: FakeCloud, tmp_path) -> Run:
    return Run(cloud, str(tmp_path))


def test_a_200_streams_the_bytes_through_the_api(run: Run) -> None:
    run.cloud.token_mode = "200"
    assert run.download() == len(DATA)
    run.check_file()
    assert [s.path for s in run.cloud.seen] == ["/v1/datasets/download"]
    assert run.lines[-1] == f"dataset downloaded: {len(DATA)} bytes, sha256 verified"


def test_a_broken_200_from_the_api_is_fetched_again_from_the_start(run: Run) -> None:
    run.cloud.token_mode = "200"
    run.cloud.break_after = [100_000]
    run.download()
    run.check_file()
    token_gets = run.cloud.requests("GET", "/v1/datasets/download")
    assert len(token_gets) == 2 and "range" not in token_gets[1].headers
    assert run.clock.slept == [2.0]


def test_a_302_spends_the_token_and_the_bucket_serves_the_bytes(run: Run) -> None:
    run.download()
    run.check_file()
    assert [(s.method, s.path) for s in run.cloud.seen] == [
        ("GET", "/v1/datasets/download"),
        ("GET", "/bucket/dataset"),
    ]
    assert "authorization" not in run.cloud.seen[1].headers  # no credential of ours to the bucket's host


def test_a_broken_bucket_transfer_resumes_with_range_keeping_what_came(run: Run) -> None:
    run.cloud.break_after = [100_000, 150_000]
    run.download()
    run.check_file()
    gets = run.cloud.requests("GET", "/bucket/dataset")
    assert [g.headers.get("range") for g in gets] == [None, "bytes=100000-", "bytes=250000-"]
    assert sum(g.sent for g in gets) == len(DATA)  # no byte sent twice
    assert run.clock.slept == [2.0, 2.0]


def test_a_bucket_that_answers_200_to_a_range_starts_the_file_again(run: Run) -> None:
    run.cloud.break_after = [100_000]
    run.cloud.ignore_range = True
    run.download()
    run.check_file()
    gets = run.cloud.requests("GET", "/bucket/dataset")
    assert [g.headers.get("range") for g in gets] == [None, "bytes=100000-"]
    assert sum(run.phase.steps) == len(DATA)  # the bytes received again are not counted twice


def test_an_expired_presigned_url_is_reissued_through_the_run_token_and_resumed(run: Run) -> None:
    run.cloud.break_after = [100_000]
    run.cloud.expire_after_use = True  # the first URL is dead once it broke
    run.download()
    run.check_file()
    gets = run.cloud.requests("GET", "/bucket/dataset")
    assert [(g.query["X-Amz-Signature"], g.headers.get("range")) for g in gets] == [
        ("sig1", None),
        ("sig1", "bytes=100000-"),
        ("sig2", "bytes=100000-"),
    ]
    reissues = run.cloud.requests("POST", "/v1/runs/dep-1/dataset/url")
    assert len(reissues) == 1 and reissues[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert any("asking the API for a fresh one" in line for line in run.lines)


def test_a_fresh_url_that_is_refused_too_fails(run: Run) -> None:
    run.cloud.expired = {1, 2, 3}
    with pytest.raises(TransferError) as failed:
        run.download()
    assert str(failed.value) == "dataset download failed: HTTP 403 (not retried)"
    assert failed.value.status == 403
    assert len(run.cloud.requests("POST", "/v1/runs/dep-1/dataset/url")) == 1
    assert not os.path.exists(run.dest) and os.listdir(os.path.dirname(run.dest)) == []


def test_a_refused_reissue_names_the_apis_code(run: Run) -> None:
    run.cloud.expired = {1}
    run.cloud.answers["POST /v1/runs/dep-1/dataset/url"] = [(409, "NOT_A_BUCKET")]
    with pytest.raises(TransferError) as failed:
        run.download()
    assert str(failed.value) == "dataset download failed: a fresh URL was refused: HTTP 409 NOT_A_BUCKET (not retried)"
    assert (failed.value.status, failed.value.code) == (409, "NOT_A_BUCKET")


def test_a_spent_token_is_not_retried(run: Run) -> None:
    run.cloud.spent = True
    with pytest.raises(TransferError) as failed:
        run.download()
    assert str(failed.value) == "dataset download failed: HTTP 401 TOKEN_USED (not retried)"
    assert (failed.value.status, failed.value.code) == (401, "TOKEN_USED")
    assert len(run.cloud.seen) == 1 and run.clock.slept == []


def test_a_500_is_retried_then_fails_naming_the_attempts(run: Run) -> None:
    run.cloud.answers["GET /v1/datasets/download"] = [(500, "INTERNAL")] * 10
    with pytest.raises(TransferError) as failed:
        run.download()
    assert str(failed.value) == "dataset download failed: HTTP 500 INTERNAL (4 attempts)"
    assert len(run.cloud.seen) == 4 and run.clock.slept == [2.0, 2.0, 2.0]
    assert [line.split(";")[1] for line in run.lines] == [f" retry {i}/3 in 2 s" for i in (1, 2, 3)]
    secret_free(run.lines)


def test_a_500_then_the_bytes(run: Run) -> None:
    run.cloud.answers["GET /v1/datasets/download"] = [(503, "INTERNAL"), "reset"]
    run.download()
    run.check_file()
    assert len(run.cloud.requests("GET", "/v1/datasets/download")) == 3


def test_the_bucket_retries_are_spent_only_without_progress(run: Run) -> None:
    # a transfer that keeps breaking but always brings bytes goes on past the retry count
    run.cloud.break_after = [50_000] * 6
    run.download()
    run.check_file()
    assert len(run.cloud.requests("GET", "/bucket/dataset")) == 7


def test_a_sha256_mismatch_is_an_error_and_not_retried(run: Run) -> None:
    with pytest.raises(TransferError) as failed:
        run.download(sha="0" * 64)
    assert str(failed.value).startswith(f"dataset sha256 mismatch: expected {'0' * 64}, received {SHA}")
    assert len(run.cloud.requests("GET", "/bucket/dataset")) == 1
    assert os.listdir(os.path.dirname(run.dest)) == []  # neither the file nor its temp


def test_a_previous_file_is_replaced_only_once_the_new_one_is_checked(run: Run) -> None:
    os.makedirs(os.path.dirname(run.dest))
    with open(run.dest, "wb") as f:
        f.write(b"old")
    with pytest.raises(TransferError):
        run.download(sha="1" * 64)
    with open(run.dest, "rb") as f:
        assert f.read() == b"old"
    run.cloud.spent = False
    run.phase = Phase()
    run.download()
    run.check_file()
