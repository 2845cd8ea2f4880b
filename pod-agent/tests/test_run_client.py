import os

import pytest

from trainpod_agent.clock import FakeClock
from trainpod_agent.http import HttpError, RetryPolicy
from trainpod_agent.run_client import RunClient

TOKEN = "tp_run_secret_token_value"


def client(api, tmp_path, clock=None, retries=5):
    logged = []
    c = RunClient(api.url + "/v1/runs/d1/events", api.url + "/v1/runs/d1/artifacts", TOKEN, clock or FakeClock(),
                  str(tmp_path), RetryPolicy(retries=retries, delay=2), logged.append)
    return c, logged


def test_event_carries_the_token_and_an_increasing_seq(api, tmp_path):
    c, _ = client(api, tmp_path)
    c.event({"type": "started"})
    c.event({"type": "log", "lines": ["x"]})
    assert [s.headers["authorization"] for s in api.seen] == ["Bearer " + TOKEN] * 2
    assert [e["seq"] for e in api.events()] == [1, 2]


def test_seq_goes_on_after_a_restart(api, tmp_path):
    c, _ = client(api, tmp_path)
    c.event({"type": "started"})
    again, _ = client(api, tmp_path)  # a restarted container: same volume
    again.event({"type": "started"})
    assert [e["seq"] for e in api.events()] == [1, 2]


def test_heartbeat_has_no_seq(api, tmp_path):
    c, _ = client(api, tmp_path)
    c.event({"type": "heartbeat"}, seq=False)
    assert api.events() == [{"type": "heartbeat"}]


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_retried_on_what_a_retry_can_fix_with_the_same_seq(api, tmp_path, status):
    api.script["/v1/runs/d1/events"] = [(status, {}), (status, {}), (202, {})]
    clock = FakeClock()
    c, logged = client(api, tmp_path, clock)
    c.event({"type": "completed"})
    assert [e["seq"] for e in api.events()] == [1, 1, 1]  # one event, sent three times: the API drops repeats
    assert clock.slept == [2, 2]
    assert logged[0] == "report: HTTP %d; retry 1/5 in 2 s" % status


@pytest.mark.parametrize("status,code", [(401, "TOKEN_USED"), (403, "FORBIDDEN"), (404, "NOT_FOUND")])
def test_not_retried_and_the_error_names_status_and_code(api, tmp_path, status, code):
    api.script["/v1/runs/d1/events"] = [(status, {"error": {"code": code, "message": "no"}})]
    c, _ = client(api, tmp_path)
    with pytest.raises(HttpError) as info:
        c.event({"type": "completed"})
    assert len(api.seen) == 1
    assert info.value.status == status and info.value.code == code
    assert info.value.why == "HTTP %d %s (not retried)" % (status, code)


def test_no_answer_is_retried_then_given_up_counting_attempts(tmp_path):
    clock = FakeClock()
    c = RunClient("http://127.0.0.1:9/events", "http://127.0.0.1:9/a", TOKEN, clock, str(tmp_path),
                  RetryPolicy(retries=2, delay=1))
    with pytest.raises(HttpError) as info:
        c.event({"type": "started"})
    assert info.value.status == 0
    assert info.value.why.endswith("(3 attempts)")
    assert TOKEN not in info.value.why and "127.0.0.1" not in info.value.why


def test_a_call_that_reached_the_api_stamps_the_last_contact(api, tmp_path):
    clock = FakeClock(1_900_000_000)
    c, _ = client(api, tmp_path, clock)
    assert c.contact.last() is None
    c.event({"type": "started"})
    assert c.contact.last() == 1_900_000_000
    assert os.path.exists(tmp_path / "last-report")


def test_try_event_never_raises_and_logs_without_secrets(api, tmp_path):
    api.script["/v1/runs/d1/events"] = [(403, {"error": {"code": "FORBIDDEN"}})]
    c, logged = client(api, tmp_path)
    assert c.try_event({"type": "log", "lines": []}) is False
    assert logged == ["warning: could not report an event: HTTP 403 FORBIDDEN (not retried)"]


def test_artifact_calls(api, tmp_path):
    api.script["/v1/runs/d1/artifacts"] = [(201, {"mode": "api"})]
    c, _ = client(api, tmp_path)
    assert c.declare("a/b.bin", 3, "ab" * 32) == {"mode": "api"}
    c.upload_url("a/b.bin", part_number=2, sha256="cd" * 32)
    c.complete("a/b.bin", parts=[{"partNumber": 1, "etag": "e"}])
    bodies = [(s.path, s.json()) for s in api.seen]
    assert bodies == [
        ("/v1/runs/d1/artifacts", {"path": "a/b.bin", "sizeBytes": 3, "sha256": "ab" * 32}),
        ("/v1/runs/d1/artifacts/url", {"path": "a/b.bin", "partNumber": 2, "sha256": "cd" * 32}),
        ("/v1/runs/d1/artifacts/complete", {"path": "a/b.bin", "parts": [{"partNumber": 1, "etag": "e"}]}),
    ]
