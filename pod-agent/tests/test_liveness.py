from trainpod_agent.clock import FakeClock
from trainpod_agent.config import DeadManSettings
from trainpod_agent.http import RetryPolicy
from trainpod_agent.liveness import DONE, NEVER, RETRY, Liveness
from trainpod_agent.run_client import RunClient

POD_KEY = "rpa_pod_scoped_key_123"


def make(api, tmp_path, clock, grace=120, max_runtime=0, unreachable=900, heartbeat=30, pod="pod1"):
    logged = []
    client = RunClient(api.url + "/v1/runs/d1/events", api.url + "/a", "tp_run_x", clock, str(tmp_path),
                       RetryPolicy(retries=0, delay=1), logged.append)
    settings = DeadManSettings(api.url + "/v2", pod, POD_KEY, grace, max_runtime, unreachable)
    live = Liveness(settings, client, clock, str(tmp_path), heartbeat, logged.append, RetryPolicy(retries=2, delay=5))
    return live, logged


def deletes(api):
    return [s for s in api.seen if s.method == "DELETE"]


def test_heartbeat_every_interval_whatever_the_run_does(api, tmp_path):
    clock = FakeClock()
    live, _ = make(api, tmp_path, clock, heartbeat=30)
    for _ in range(13):  # 65 s at 5 s a turn
        live.tick()
        clock.sleep(live.every)
    assert api.types() == ["heartbeat"] * 3  # at 0, 30 and 60 s
    assert deletes(api) == []


def test_max_runtime_plus_grace_deletes_the_pod_with_its_own_key(api, tmp_path):
    clock = FakeClock()
    live, logged = make(api, tmp_path, clock, grace=10, max_runtime=100)
    clock.advance(109)
    live.tick()
    assert deletes(api) == []
    clock.advance(1)
    live.tick()
    [d] = deletes(api)
    assert d.path == "/v2/pods/pod1" and d.headers["authorization"] == "Bearer " + POD_KEY
    assert live.terminated
    assert any("max runtime 100 s + grace 10 s reached" in line for line in logged)
    assert all(POD_KEY not in line for line in logged)


def test_first_start_survives_a_container_restart_but_not_a_new_pod(api, tmp_path):
    clock = FakeClock(1_000)
    make(api, tmp_path, clock, max_runtime=100)
    clock.advance(50)
    again, _ = make(api, tmp_path, clock, max_runtime=100)
    assert again.started0 == 1_000
    other, _ = make(api, tmp_path, clock, max_runtime=100, pod="pod2")
    assert other.started0 == 1_050


def test_silence_then_a_failed_heartbeat_deletes_the_pod(api, tmp_path):
    clock = FakeClock()
    live, _ = make(api, tmp_path, clock, unreachable=60, heartbeat=1000)
    live.tick()  # the first heartbeat reaches the API
    api.script["/v1/runs/d1/events"] = [(503, {})]
    clock.advance(59)
    live.tick()
    assert deletes(api) == []
    clock.advance(1)
    live.tick()
    assert len(deletes(api)) == 1


def test_silence_that_one_heartbeat_ends_keeps_the_pod(api, tmp_path):
    clock = FakeClock()
    live, logged = make(api, tmp_path, clock, unreachable=60, heartbeat=1000)
    clock.advance(61)
    live.tick()
    live.tick()
    assert deletes(api) == []
    assert not live.terminated


def test_trainer_reports_count_as_contact(api, tmp_path):
    """Every call through the client stamps the contact: a busy trainer's progress keeps the pod alive."""
    clock = FakeClock()
    live, _ = make(api, tmp_path, clock, unreachable=60, heartbeat=1000)
    live.tick()
    api.script["/v1/runs/d1/events"] = [(202, {})]
    for _ in range(5):
        clock.advance(30)
        live.client.event({"type": "progress", "step": 1})
        live.tick()
    assert deletes(api) == []


def test_404_is_done_5xx_retry_403_never(api, tmp_path):
    clock = FakeClock()
    live, _ = make(api, tmp_path, clock)
    api.script["/v2/pods/pod1"] = [(404, {})]
    assert live.self_terminate("x") == DONE
    api.script["/v2/pods/pod1"] = [(500, {})]
    assert live.self_terminate("x") == RETRY
    assert clock.slept[-2:] == [5, 5]
    api.script["/v2/pods/pod1"] = [(403, {})]
    assert live.self_terminate("x") == NEVER


def test_after_outcome_waits_the_grace_then_deletes(api, tmp_path):
    clock = FakeClock()
    live, _ = make(api, tmp_path, clock, grace=120)
    api.script["/v2/pods/pod1"] = [(503, {}), (503, {}), (503, {}), (204, {})]
    live.after_outcome(0)
    assert clock.slept[0] == 120
    assert len(deletes(api)) == 4  # three refused (a retry), then done
    assert clock.slept[-1] == 60
    logs = [e for e in api.events() if e["type"] == "log"]
    assert len(logs) == 1 and "self-terminating: outcome (exit code 0)" in logs[0]["lines"][0]


def test_off_without_settings(api, tmp_path):
    clock = FakeClock()
    client = RunClient(api.url + "/events", api.url + "/a", "t", clock, str(tmp_path), RetryPolicy(0, 0))
    live = Liveness(None, client, clock, str(tmp_path), 30, lambda _l: None)
    clock.advance(10_000)
    live.tick()
    live.after_outcome(1)
    assert api.types() == ["heartbeat"] and deletes(api) == []
