import io
import threading
import time

from trainpod_agent.clock import FakeClock
from trainpod_agent.http import RetryPolicy
from trainpod_agent.logbook import Logbook
from trainpod_agent.outbox import Outbox
from trainpod_agent.run_client import RunClient

SECRET = "tp_run_0123456789abcdef"


def test_lines_are_stamped_masked_cut_and_batched(tmp_path):
    out = io.StringIO()
    log = Logbook(str(tmp_path / "run.log"), FakeClock(0), [SECRET], out)
    log("token is " + SECRET)
    log("tab\there ctrl\x01end\nsecond")
    log("x" * 5000)
    for i in range(250):
        log("line %d" % i)
    lines = out.getvalue().splitlines()
    assert lines[0] == "1970-01-01T00:00:00Z token is ***"
    assert lines[1] == "1970-01-01T00:00:00Z tab\there ctrlend"
    assert lines[2] == "1970-01-01T00:00:00Z second"
    assert lines[3] == "1970-01-01T00:00:00Z " + "x" * 1000 + "..."
    assert (tmp_path / "run.log").read_text().splitlines() == lines
    batches = log.take_batches()
    assert [len(b) for b in batches] == [100, 100, 54]
    assert log.take_batches() == []
    assert log.tail(2) == lines[-2:]


class Recorder(RunClient):
    def __init__(self, tmp_path, gate):
        super().__init__("http://127.0.0.1:9/e", "http://127.0.0.1:9/a", "t", FakeClock(), str(tmp_path))
        self.sent, self.gate = [], gate

    def try_event(self, body, policy=None):
        self.gate.wait(5)
        self.sent.append(body)
        return True


def test_outbox_keeps_order_and_drops_only_old_progress_when_full(tmp_path):
    gate = threading.Event()
    client = Recorder(tmp_path, gate)
    box = Outbox(client, size=4, policy=RetryPolicy(0, 0))
    box.send({"type": "phase", "n": 0})
    for _ in range(500):  # until the thread took it (it then waits at the gate)
        if not box._queue:
            break
        time.sleep(0.01)
    for step in range(1, 4):
        box.send({"type": "progress", "step": step})
    box.send({"type": "phase", "n": 1})
    box.send({"type": "progress", "step": 4})
    gate.set()
    assert box.flush(5)
    kinds = [(e["type"], e.get("step", e.get("n"))) for e in client.sent]
    # phase 0 in flight, a queue of 4: progress 1 was dropped to make room for progress 4, never a phase
    assert kinds == [("phase", 0), ("progress", 2), ("progress", 3), ("phase", 1), ("progress", 4)]
    assert box.dropped == 1
    box.close()


def test_the_users_secrets_named_by_the_launcher_are_masked_like_trainpods_own(tmp_path):
    from trainpod_agent.config import load_config

    hf, wandb, own = "hf_userTokenValue0123456789", "0123456789abcdef0123456789abcdef01234567", "line-one\nline-two"
    env = {"TRAINPOD_DEPLOYMENT_ID": "d", "TRAINPOD_RUN_TOKEN": SECRET, "TRAINPOD_EVENTS_URL": "http://a/e",
           "HF_TOKEN": hf, "WANDB_API_KEY": wandb, "MY_KEYFILE": own, "NOT_NAMED": "visible-value",
           "TRAINPOD_SECRET_NAMES": "HF_TOKEN,WANDB_API_KEY,MY_KEYFILE,UNSET_ONE"}
    cfg = load_config(env)
    assert {hf, wandb, own} <= set(cfg.secrets)
    assert "visible-value" not in cfg.secrets
    assert own not in repr(cfg)
    out = io.StringIO()
    log = Logbook(str(tmp_path / "run.log"), FakeClock(0), cfg.secrets, out)
    log("401 with token %s for wandb %s" % (hf, wandb))
    log("key file:\n%s" % own)
    log("the trainer printed line-two alone, and visible-value")
    text = out.getvalue() + (tmp_path / "run.log").read_text() + repr(log.take_batches())
    for value in (hf, wandb, "line-one", "line-two"):
        assert value not in text
    assert "401 with token *** for wandb ***" in text
    assert "visible-value" in text
