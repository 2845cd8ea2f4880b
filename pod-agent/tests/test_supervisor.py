import json
import os
import sys
import time

from trainpod_agent.clock import SystemClock
from trainpod_agent.supervisor import TrainerProcess, package_root, trainer_argv

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def child(code, lines, events):
    return TrainerProcess([sys.executable, "-c", code], dict(os.environ), lines.append, events.append)


def test_lines_events_and_exit_code():
    lines, events = [], []
    code = (
        "import os,sys; f=os.fdopen(int(os.environ['TRAINPOD_EVENT_FD']),'w')\n"
        "print('out'); print('err', file=sys.stderr); f.write('{\"type\":\"progress\",\"step\":1}\\n');"
        "f.write('not json\\n'); f.flush(); sys.exit(7)"
    )
    p = child(code, lines, events)
    assert p.wait() == 7
    assert sorted(lines) == ["err", "out"]
    assert events == [{"type": "progress", "step": 1}]
    assert p.bad_events == 1


def test_stop_ends_the_whole_process_group_even_a_child_that_ignores_sigterm(tmp_path):
    pidfile = tmp_path / "grandchild"
    code = (
        "import signal,subprocess,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "g=subprocess.Popen([sys.executable,'-c','import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " time.sleep(600)']); open(%r,'w').write(str(g.pid)); print('ready', flush=True); time.sleep(600)"
    ) % str(pidfile)
    lines, events = [], []
    p = child(code, lines, events)
    for _ in range(200):
        if "ready" in lines:
            break
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    assert alive(grandchild)
    code = p.stop(SystemClock(), grace_s=0.3)
    assert code == -9
    for _ in range(100):
        if not alive(grandchild):
            break
        time.sleep(0.05)
    assert not alive(grandchild)


def test_trainer_argv_runs_this_package():
    argv = trainer_argv(sys.executable, "d.jsonl", "out", "m", "{}")
    assert argv[1:4] == ["-m", "trainpod_agent", "trainer"]
    assert package_root() == ROOT


def test_the_child_in_simulated_mode_reports_every_phase_and_writes_outputs(tmp_path):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text("".join(json.dumps({"prompt": "q%d" % i, "completion": "a"}) + "\n" for i in range(50)))
    hp = {"steps": 3, "sim_step_ms": 1, "sim_model_bytes": 4_000_000, "sim_download_bytes_per_s": 40_000_000,
          "sim_output_shards": 3, "sim_shard_bytes": 1000}
    env = {**os.environ, "TRAINPOD_ML": "simulated", "PYTHONPATH": ROOT}
    lines, events = [], []
    out = tmp_path / "out"
    p = TrainerProcess(trainer_argv(sys.executable, str(dataset), str(out), "org/model", json.dumps(hp)), env,
                       lines.append, events.append)
    assert p.wait() == 0, "\n".join(lines)
    phases = [(e["phase"], e["state"]) for e in events if e["type"] == "phase" and e["state"] != "progress"]
    names = ["model_download", "load", "tokenize", "train", "save"]
    assert phases == [(n, s) for n in names for s in ("started", "ended")]
    ended = {e["phase"]: e for e in events if e.get("state") == "ended"}
    assert ended["model_download"]["done"] == 4_000_000 and ended["model_download"]["total"] == 4_000_000
    assert ended["tokenize"]["done"] == 50 and ended["tokenize"]["unit"] == "rows"
    assert ended["train"]["done"] == 3 and ended["train"]["total"] == 3
    assert [e["step"] for e in events if e["type"] == "progress"] == [1, 2, 3]
    shards = sorted(os.listdir(out / "merged"))
    assert shards == ["model-0000%d-of-00003.safetensors" % i for i in (1, 2, 3)] + ["model.safetensors.index.json"]
    assert "step 3/3 loss" in " ".join(lines)


def test_the_child_exit_codes(tmp_path):
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"prompt":"q","completion":"a"}\n')
    env = {**os.environ, "TRAINPOD_ML": "simulated", "PYTHONPATH": ROOT}

    def run(hp, data=dataset):
        lines = []
        p = TrainerProcess(trainer_argv(sys.executable, str(data), str(tmp_path / "o"), "m", json.dumps(hp)), env,
                           lines.append, lambda _e: None)
        return p.wait(), "\n".join(lines)

    code, text = run({"steps": 4, "sim_step_ms": 1, "sim_fail_at_step": 2, "sim_exit_code": 17, "sim_error": "boom"})
    assert code == 17 and "boom" in text
    code, text = run({"nope": 1})
    assert code == 2 and "unknown hyperparameter" in text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt":"q","completion":"a"}\nnot json\n')
    code, text = run({}, bad)
    assert code == 2 and "line 2" in text


def test_phase_facts_are_numbers_only_others_go_to_the_log(capsys):
    from trainpod_agent.clock import FakeClock
    from trainpod_agent.ml.reporter import Events

    sent = []
    events = Events(sent.append, FakeClock())
    with events.phase("load") as phase:
        phase.note(parameters=1_000_000, dtype="bfloat16", ok_flag=True, bad=float("nan"))
    assert sent[-1]["parameters"] == 1_000_000
    assert not {"dtype", "ok_flag", "bad"} & set(sent[-1])
    assert "load: dtype=bfloat16" in capsys.readouterr().out


def test_the_trainer_gets_no_credential_and_the_hubs_fast_quiet_defaults():
    from trainpod_agent.supervisor import trainer_env

    pod = {"TRAINPOD_RUN_TOKEN": "tp_run_x", "TRAINPOD_DATASET_URL": "http://a/?token=tp_ds_y", "RUNPOD_API_KEY": "k",
           "HF_TOKEN": "hf_user", "HF_XET_HIGH_PERFORMANCE": "0", "PYTHONPATH": "/opt/x", "PATH": "/bin"}
    env = trainer_env(pod, "/w/agent.pyz")
    assert not {"TRAINPOD_RUN_TOKEN", "TRAINPOD_DATASET_URL", "RUNPOD_API_KEY"} & set(env)
    assert env["HF_TOKEN"] == "hf_user"  # the user's own hub token reaches the trainer
    # and every other secret of the user's the launcher put in the pod's env (TRAINPOD_SECRET_NAMES)
    users = {"WANDB_API_KEY": "wb", "MY_OWN": "v", "TRAINPOD_SECRET_NAMES": "WANDB_API_KEY,MY_OWN"}
    with_user = trainer_env({**pod, **users}, "/w")
    assert (with_user["WANDB_API_KEY"], with_user["MY_OWN"], with_user["HF_TOKEN"]) == ("wb", "v", "hf_user")
    assert not {"TRAINPOD_RUN_TOKEN", "TRAINPOD_DATASET_URL", "RUNPOD_API_KEY"} & set(with_user)
    assert env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert env["HF_XET_HIGH_PERFORMANCE"] == "0"  # what the pod sets wins
    assert env["PYTHONPATH"] == "/w/agent.pyz" + os.pathsep + "/opt/x"
