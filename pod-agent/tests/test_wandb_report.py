"""W&B reporting (ml/wandb_report.py): when the trainer reports to W&B, and a real CPU training of the tiny model
with WANDB_MODE=offline whose offline run holds the train loss. The URL's way to the API is tested through the
run-events API (apps/api/src/routes/run-results.int.test.ts)."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import io
import json
import os
import re
from types import SimpleNamespace
from typing import Any

import pytest
import tiny_model
from recorders import Recorder

from trainpod_agent.ml.child import run
from trainpod_agent.ml.hyperparameters import hyperparameters
from trainpod_agent.ml.seam import RunSpec
from trainpod_agent.ml.wandb_report import send_run_url, wandb_report_to

HAS_WANDB = importlib.util.find_spec("wandb") is not None
needs_wandb = pytest.mark.skipif(not HAS_WANDB, reason="wandb not installed (requirements-test.txt)")


def test_no_project_no_wandb_and_no_key_no_wandb():
    assert wandb_report_to({}) == []
    env = {"TRAINPOD_WANDB_PROJECT": "runs"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        got = wandb_report_to(env)
    assert got == []
    assert "WANDB_PROJECT" not in env
    assert ("no WANDB_API_KEY" if HAS_WANDB else "not installed") in out.getvalue()


@needs_wandb
def test_a_key_or_offline_reports_with_the_deployments_project_and_name():
    env = {"TRAINPOD_WANDB_PROJECT": "runs", "TRAINPOD_WANDB_NAME": "try 1", "WANDB_API_KEY": "k" * 40}
    assert wandb_report_to(env) == ["wandb"]
    assert (env["WANDB_PROJECT"], env["WANDB_NAME"], env["WANDB_LOG_MODEL"]) == ("runs", "try 1", "false")
    assert wandb_report_to({"TRAINPOD_WANDB_PROJECT": "runs", "WANDB_MODE": "offline"}) == ["wandb"]


@needs_wandb
def test_the_runs_url_is_sent_as_a_wandb_event_and_an_offline_run_sends_none(monkeypatch):
    import wandb

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(wandb, "run", SimpleNamespace(id="abc123", url="https://wandb.ai/alice/runs/runs/abc123"))
    assert send_run_url(sent.append) == "https://wandb.ai/alice/runs/runs/abc123"
    assert sent == [{"type": "wandb", "url": "https://wandb.ai/alice/runs/runs/abc123"}]
    monkeypatch.setattr(wandb, "run", SimpleNamespace(id="abc123", url=None))
    assert send_run_url(sent.append) is None and len(sent) == 1


REAL = [n for n in ("torch", "transformers", "peft", "trl", "wandb") if importlib.util.find_spec(n) is None]


@pytest.mark.real
@pytest.mark.skipif(bool(REAL), reason="not importable: %s (the trainer venv)" % ", ".join(REAL))
def test_a_real_training_reports_its_train_loss_to_an_offline_wandb_run(tmp_path, monkeypatch):
    from trainpod_agent.ml.real import RealML

    model = tiny_model.build(str(tmp_path / "tiny-llama"))
    for k, v in {"TRAINPOD_WANDB_PROJECT": "trainpod-test", "TRAINPOD_WANDB_NAME": "tiny", "WANDB_MODE": "offline",
                 "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    hp = {"steps": 4, "batch_size": 2, "gradient_accumulation_steps": 1, "max_seq_length": 64, "learning_rate": 0.005}
    spec = RunSpec(dataset="", output_dir=str(tmp_path / "out"), base_model=model,
                   hyperparameters=hyperparameters(json.dumps(hp)), rows=tiny_model.rows("chat", 8), row_format="chat")
    log, report = io.StringIO(), Recorder()
    with contextlib.redirect_stdout(log):
        run(spec, RealML(), report)  # type: ignore[arg-type]
        import wandb

        assert wandb.run is not None and wandb.run.project == "trainpod-test" and wandb.run.name == "tiny"
        wandb.finish()
    assert "no URL (offline)" in log.getvalue()
    [stored] = glob.glob(os.path.join(str(tmp_path), "wandb", "offline-run-*", "run-*.wandb"))
    losses = offline_losses(stored)
    reported = [r["loss"] for r in report.progress_reports]
    assert len(reported) == 4 and all(x > 0 for x in reported)
    assert [round(x, 4) for x in losses[-4:]] == [round(x, 4) for x in reported]


def offline_losses(path: str) -> list[float]:
    """The `train/loss` values of an offline run's history: each a HistoryItem (key: field 2, value_json: field 16)
    in the run's protobuf records (the .wandb file; wandb 0.31 ships no Python reader for it). A history row can be
    written twice (the history record and its partial), so repeats in a row are dropped."""
    with open(path, "rb") as f:
        data = f.read()
    found = [float(m.group(2)) for m in re.finditer(rb"\x12\ntrain/loss\x82\x01(.)([-0-9.e+]+)", data, re.S)
             if len(m.group(2)) == m.group(1)[0]]
    return [x for i, x in enumerate(found) if i == 0 or x != found[i - 1]]
