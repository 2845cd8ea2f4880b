"""The whole agent as a process (python -m trainpod_agent), simulated ML, against a fake trainpod API."""

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "tp_run_abcdefghijklmnop"
DS_TOKEN = "tp_ds_qrstuvwxyz012345"
DATASET = b"".join(json.dumps({"prompt": "q%d" % i, "completion": "a"}).encode() + b"\n" for i in range(20))


def run_agent(api, tmp_path, hp, extra_env=None, timeout=60, dataset_answer=(200, DATASET)):
    api.script["/v1/datasets/download"] = [dataset_answer]
    api.script["/v1/runs/d1/artifacts"] = [(201, {"mode": "api"})]
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "TRAINPOD_ML": "simulated",
        "TRAINPOD_DEPLOYMENT_ID": "d1", "TRAINPOD_RUN_TOKEN": TOKEN,
        "TRAINPOD_DATASET_URL": api.url + "/v1/datasets/download?token=" + DS_TOKEN,
        "TRAINPOD_DATASET_SHA256": hashlib.sha256(DATASET).hexdigest(),
        "TRAINPOD_EVENTS_URL": api.url + "/v1/runs/d1/events",
        "TRAINPOD_ARTIFACTS_URL": api.url + "/v1/runs/d1/artifacts",
        "TRAINPOD_BASE_MODEL": "org/model", "TRAINPOD_HYPERPARAMETERS": json.dumps(hp),
        "RUNPOD_VOLUME_MOUNT_PATH": str(tmp_path), "TRAINPOD_RETRY_DELAY_S": "0.05",
        **(extra_env or {}),
    }
    done = subprocess.run([sys.executable, "-m", "trainpod_agent"], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def test_a_run_walks_every_phase_in_order_and_reports_one_outcome(api, tmp_path):
    hp = {"steps": 4, "sim_step_ms": 1, "sim_output_shards": 2, "sim_shard_bytes": 3000}
    code, output = run_agent(api, tmp_path, hp)
    assert code == 0, output
    events = [e for e in api.events() if e["type"] != "heartbeat"]
    seqs = [e["seq"] for e in events]
    assert sorted(seqs) == seqs and len(set(seqs)) == len(seqs)  # strictly increasing: the API can dedupe
    phases = [e["phase"] for e in events if e["type"] == "phase" and e["state"] == "started"]
    assert phases == ["setup", "dataset_download", "model_download", "load", "tokenize", "train", "save", "upload"]
    assert [e["type"] for e in events][-1] == "completed"
    assert [e["step"] for e in events if e["type"] == "progress"] == [1, 2, 3, 4]
    started = next(e for e in events if e["type"] == "started")
    assert started["system"]["agent"] == "trainpod-agent"
    puts = sorted(s.path for s in api.seen if s.method == "PUT")
    assert "/v1/runs/d1/artifacts/merged/model-00002-of-00002.safetensors" in puts
    assert "/v1/runs/d1/artifacts/adapter_model.safetensors" in puts
    logs = [line for e in events if e["type"] == "log" for line in e["lines"]]
    assert any("step 4/4 loss" in line for line in logs)
    everything = output + json.dumps(api.events())
    assert TOKEN not in everything and DS_TOKEN not in everything


def test_a_failing_trainer_is_one_failed_event_with_phase_cause_and_traceback(api, tmp_path):
    hp = {"steps": 6, "sim_step_ms": 1, "sim_fail_at_step": 3}
    code, output = run_agent(api, tmp_path, hp)
    assert code == 1, output
    outcomes = [e for e in api.events() if e["type"] in ("failed", "completed")]
    assert len(outcomes) == 1
    failed = outcomes[0]
    assert (failed["phase"], failed["cause"], failed["exitCode"]) == ("train", "trainer_error", 1)
    assert failed["message"] == "training exited with code 1"
    assert any("OutOfMemoryError" in line for line in failed["lines"])
    # nothing of the output uploaded; its checkpoints are (issue 27: a resume may start from them)
    assert not [s for s in api.seen if s.method == "PUT" and "/artifacts/checkpoints/" not in s.path]


def test_bad_rows_are_the_users_fault(api, tmp_path):
    code, _ = run_agent(api, tmp_path, {"unknown_knob": 1})
    assert code == 2
    [failed] = [e for e in api.events() if e["type"] == "failed"]
    assert failed["cause"] == "bad_input"


def test_a_silent_trainer_still_heartbeats(api, tmp_path):
    hp = {"steps": 1, "sim_step_ms": 1, "sim_silent_s": 1.5}
    code, output = run_agent(api, tmp_path, hp, {"TRAINPOD_HEARTBEAT_S": "0.2"})
    assert code == 0, output
    types = api.types()
    train_start = next(i for i, e in enumerate(api.events()) if e.get("phase") == "train")
    first_step = types.index("progress")
    assert types[train_start:first_step].count("heartbeat") >= 3


def test_a_spent_dataset_token_fails_the_download_phase_at_once(api, tmp_path):
    spent = (401, {"error": {"code": "TOKEN_USED", "message": "used"}})
    code, _ = run_agent(api, tmp_path, {}, dataset_answer=spent)
    assert code == 1
    [failed] = [e for e in api.events() if e["type"] == "failed"]
    assert failed["phase"] == "dataset_download" and failed["cause"] == "dataset_download"
    assert "HTTP 401 TOKEN_USED (not retried)" in failed["message"]
    assert len([s for s in api.seen if s.path.startswith("/v1/datasets/download")]) == 1


def test_a_second_start_after_the_outcome_never_trains_again(api, tmp_path):
    hp = {"steps": 2, "sim_step_ms": 1}
    assert run_agent(api, tmp_path, hp)[0] == 0
    first = len(api.seen)
    code, output = run_agent(api, tmp_path, hp)
    assert code == 0, output
    again = [s.json() for s in api.seen[first:] if s.path.endswith("/events")]
    assert [e["type"] for e in again if e["type"] != "heartbeat"] == ["completed"]
    assert not [s for s in api.seen[first:] if s.path.startswith("/v1/datasets")]  # not even the dataset
    assert "was reported already: not training again" in output


def test_two_starts_at_once_run_the_run_once(api, tmp_path):
    """RunPod's JSON start command may run twice: the second waits on the first's lock and trains nothing."""
    hp = {"steps": 3, "sim_step_ms": 300}
    api.script["/v1/datasets/download"] = [(200, DATASET)]
    api.script["/v1/runs/d1/artifacts"] = [(201, {"mode": "api"})]
    env = {**os.environ, "PYTHONPATH": ROOT, "TRAINPOD_ML": "simulated", "TRAINPOD_DEPLOYMENT_ID": "d1",
           "TRAINPOD_RUN_TOKEN": TOKEN, "TRAINPOD_DATASET_URL": api.url + "/v1/datasets/download?token=" + DS_TOKEN,
           "TRAINPOD_DATASET_SHA256": hashlib.sha256(DATASET).hexdigest(),
           "TRAINPOD_EVENTS_URL": api.url + "/v1/runs/d1/events",
           "TRAINPOD_ARTIFACTS_URL": api.url + "/v1/runs/d1/artifacts", "TRAINPOD_HYPERPARAMETERS": json.dumps(hp),
           "RUNPOD_VOLUME_MOUNT_PATH": str(tmp_path), "TRAINPOD_RETRY_DELAY_S": "0.05"}
    for name in ("RUNPOD_API_KEY", "RUNPOD_POD_ID", "TRAINPOD_RUNPOD_API_URL"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "trainpod_agent"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    events = api.events()
    assert [e["type"] for e in events].count("completed") == 2  # the second only repeats it (the API keeps one)
    assert len([e for e in events if e["type"] == "started"]) == 1
    assert len([s for s in api.seen if s.path.startswith("/v1/datasets")]) == 1
    assert any("another start of this run is going on" in out for out in outputs)


def test_the_log_is_shipped_while_the_run_goes_not_only_with_the_outcome(api, tmp_path):
    hp = {"steps": 2, "sim_step_ms": 1, "sim_silent_s": 2.5}
    code, output = run_agent(api, tmp_path, hp, {"TRAINPOD_HEARTBEAT_S": "0.1"})  # logs every second
    assert code == 0, output
    types = [e["type"] for e in api.events() if e["type"] != "heartbeat"]
    assert "log" in types[: types.index("progress")]  # lines arrived before the first step, during the silence


def test_the_eval_loss_travels_in_the_progress_events_and_the_train_phase_end(api, tmp_path):
    """issue 26 item 1, end to end with the simulated ML: the child's pipe, the supervisor's outbox, the API."""
    hp = {"steps": 4, "sim_step_ms": 1, "eval_fraction": 0.1, "eval_steps": 2}
    code, output = run_agent(api, tmp_path, hp)
    assert code == 0, output
    progress = [e for e in api.events() if e["type"] == "progress"]
    assert [(e["step"], "evalLoss" in e) for e in progress] == [(1, False), (2, True), (3, False), (4, True)]
    assert progress[1]["evalLoss"] > progress[3]["evalLoss"] > 0
    ended = next(e for e in api.events() if e["type"] == "phase" and e["phase"] == "train" and e["state"] == "ended")
    assert ended["eval_loss"] == progress[3]["evalLoss"] and ended["train_loss"] == progress[3]["loss"]
