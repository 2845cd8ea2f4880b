"""The hub push (hub_push.py) against the fake hub: what lands in the repo, the retries, the refusals, and the whole
agent (simulated ML) reporting `hub_push` before `completed`, the run succeeding whatever the push did."""

import json
import os

import pytest
from fake_hub import FakeHub
from test_main import TOKEN, run_agent

from trainpod_agent.clock import FakeClock
from trainpod_agent.config import ResultSettings
from trainpod_agent.hub_push import push_output

HF_TOKEN = "hf_pushtoken_0123456789abcdef"
REPO = "alice/tiny-lora"


@pytest.fixture
def hub(monkeypatch):
    # the test runner keeps every other test off the network (HF_HUB_OFFLINE=1, pod-agent/agent.int.test.ts); these
    # talk to a local fake hub, in this process (huggingface_hub read the variable at import) and in agents they start
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    server = FakeHub(token=HF_TOKEN).start()
    yield server
    server.stop()


def output_dir(tmp_path):
    out = tmp_path / "fine_tuned_model"
    (out / "merged").mkdir(parents=True, exist_ok=True)
    (out / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    (out / "adapter_model.safetensors").write_bytes(b"\x01" * 3000)
    (out / "README.md").write_text("---\nlibrary_name: peft\n---\n# tiny\n")
    (out / "merged" / "model.safetensors").write_bytes(b"\x02" * 5000)
    return str(out)


def settings(hub, **over):
    return ResultSettings(**{"hub_repo": REPO, "hub_endpoint": hub.url, "hf_token": HF_TOKEN, **over})


def push(tmp_path, cfg, lines, clock=None, **kw):
    return push_output(output_dir(tmp_path), cfg, clock or FakeClock(), lines.append, delay=1.0, **kw)


def test_the_adapter_lands_in_a_new_private_repo_and_the_event_carries_the_commit_url(hub, tmp_path):
    lines = []
    event = push(tmp_path, settings(hub), lines)
    assert event["type"] == "hub_push" and "error" not in event, lines
    assert event["url"] == "%s/%s/commit/%s" % (hub.url, REPO, hub.commits[0]["oid"])
    assert sorted(hub.repos[REPO]) == ["README.md", "adapter_config.json", "adapter_model.safetensors"]
    assert hub.repos[REPO]["adapter_model.safetensors"] == b"\x01" * 3000
    assert all(auth == "Bearer " + HF_TOKEN for _, path, auth in hub.seen)
    assert not any(HF_TOKEN in line for line in lines)


def test_merged_pushes_the_merged_weights_too_and_an_existing_repo_is_kept(hub, tmp_path):
    hub.repos[REPO] = {"old.txt": b"kept"}
    event = push(tmp_path, settings(hub, hub_merged=True), [])
    assert "url" in event
    assert hub.repos[REPO]["merged/model.safetensors"] == b"\x02" * 5000
    assert hub.repos[REPO]["old.txt"] == b"kept"


def test_merged_asked_without_merged_weights_pushes_the_adapter_and_says_so(hub, tmp_path):
    lines = []
    out = output_dir(tmp_path)
    os.remove(os.path.join(out, "merged", "model.safetensors"))
    os.rmdir(os.path.join(out, "merged"))
    event = push_output(out, settings(hub, hub_merged=True), FakeClock(), lines.append)
    assert "url" in event
    assert any("no merged weights" in line for line in lines)


def test_5xx_is_retried_with_a_doubling_delay_then_it_succeeds(hub, tmp_path):
    hub.fail["create"] = [500, 503]
    clock, lines = FakeClock(), []
    event = push(tmp_path, settings(hub), lines, clock)
    assert "url" in event, lines
    assert clock.slept == [1.0, 2.0]
    assert len(hub.commits) == 1
    assert [line for line in lines if "retry" in line][0].startswith("hub push: HTTP 500 from the hub; retry 1/4")


def test_a_5xx_on_the_commit_is_retried_by_huggingface_hub_itself(hub, tmp_path):
    hub.fail["commit"] = [500]  # huggingface_hub's own backoff (1 s) on preupload and commit; ours on the rest
    clock = FakeClock()
    event = push(tmp_path, settings(hub), [], clock)
    assert "url" in event
    assert clock.slept == [] and len(hub.commits) == 1


def test_a_hub_that_keeps_failing_is_an_error_after_the_retries(hub, tmp_path):
    hub.fail["create"] = [502] * 10
    clock = FakeClock()
    event = push(tmp_path, settings(hub), [], clock, retries=3)
    assert event == {"type": "hub_push", "error": "hub push to %s failed: HTTP 502 from the hub (4 attempts)" % REPO}
    assert clock.slept == [1.0, 2.0, 4.0]
    assert REPO not in hub.repos


def test_a_refused_token_says_it_lacks_write_access_and_is_not_retried(hub, tmp_path):
    clock, lines = FakeClock(), []
    event = push(tmp_path, settings(hub, hf_token="hf_readonly_token_xyz"), lines, clock)
    assert "lacks write access to %s" % REPO in event["error"]
    assert event["error"].startswith("hub push to %s failed: HTTP 401" % REPO)
    assert clock.slept == []
    assert not any("hf_readonly_token_xyz" in line for line in lines + [event["error"]])


def test_a_403_on_the_commit_says_the_token_lacks_write_access(hub, tmp_path):
    hub.fail["commit"] = [403]
    event = push(tmp_path, settings(hub), [])
    assert "HTTP 403: the token (HF_TOKEN) lacks write access to %s" % REPO in event["error"]


def test_no_answer_is_retried_then_an_error(tmp_path):
    cfg = ResultSettings(hub_repo=REPO, hub_endpoint="http://127.0.0.1:9", hf_token=HF_TOKEN)
    clock = FakeClock()
    event = push(tmp_path, cfg, [], clock, retries=1)
    assert "no answer from the hub" in event["error"] and "(2 attempts)" in event["error"]
    assert clock.slept == [1.0]


def test_without_a_token_or_in_the_simulator_without_an_endpoint_nothing_is_pushed(hub, tmp_path):
    lines = []
    assert "no HF_TOKEN" in push(tmp_path, settings(hub, hf_token=""), lines)["error"]
    event = push(tmp_path, settings(hub, hub_endpoint=""), lines, simulated=True)
    assert "never the real hub" in event["error"]
    assert hub.seen == []
    assert any(line.startswith("hub push of %s skipped" % REPO) for line in lines)


HP = {"steps": 2, "sim_step_ms": 1, "sim_output_shards": 1, "sim_shard_bytes": 2000}


def hub_env(hub, **over):
    return {"HF_ENDPOINT": hub.url, "HF_TOKEN": HF_TOKEN, "TRAINPOD_HUB_REPO": REPO, **over}


def test_the_agent_pushes_after_the_upload_and_reports_it_before_completed(api, hub, tmp_path):
    code, output = run_agent(api, tmp_path, HP, hub_env(hub, TRAINPOD_HUB_MERGED="1"))
    assert code == 0, output
    events = [e for e in api.events() if e["type"] not in ("heartbeat", "log")]
    types = [e["type"] for e in events]
    assert types[-2:] == ["hub_push", "completed"]
    assert types.index("hub_push") > max(i for i, e in enumerate(events) if e.get("phase") == "upload")
    assert events[-2]["url"].startswith("%s/%s/commit/" % (hub.url, REPO))
    assert "merged/model-00001-of-00001.safetensors" in hub.repos[REPO]
    everything = output + json.dumps(api.events())
    assert HF_TOKEN not in everything and TOKEN not in everything


def test_a_failed_push_still_completes_the_run_with_the_error_reported(api, hub, tmp_path):
    hub.fail["create"] = [500] * 20
    code, output = run_agent(api, tmp_path, HP, hub_env(hub))
    assert code == 0, output
    events = [e for e in api.events() if e["type"] in ("hub_push", "completed", "failed")]
    assert [e["type"] for e in events] == ["hub_push", "completed"]
    assert events[0]["error"] == "hub push to %s failed: HTTP 500 from the hub (5 attempts)" % REPO
    assert any("/v1/runs/d1/artifacts/adapter_model.safetensors" == s.path for s in api.seen if s.method == "PUT")
