"""W&B reporting (issue 25 item 5): with TRAINPOD_WANDB_PROJECT in the pod's env, transformers reports the run to
Weights & Biases as well (report_to=["wandb"]: its own WandbCallback, the project and run name as WANDB_PROJECT and
WANDB_NAME), with the user's WANDB_API_KEY (a secret in the pod's env; WANDB_MODE=offline needs none). wandb is
installed on the pod only when asked (start.sh, results-env.ts). Once the run started, rank 0 reports its URL as a
`wandb` event (the API's Deployment.wandbUrl); an offline run has none. wandb is imported inside the functions."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from typing import Any

from trainpod_agent.ml.seam import Reporter

KEYLESS_MODES = ("offline", "disabled", "dryrun")


def wandb_report_to(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """["wandb"] when the deployment asked for W&B and it can report (wandb installed, a key or an offline mode),
    with WANDB_PROJECT / WANDB_NAME set from the deployment's; else [] (and a line in the log saying why not)."""
    env = os.environ if environ is None else environ
    project = env.get("TRAINPOD_WANDB_PROJECT", "")
    if not project:
        return []
    if importlib.util.find_spec("wandb") is None:
        print("note: W&B reporting asked, but wandb is not installed on the pod: not reporting to W&B", flush=True)
        return []
    if not env.get("WANDB_API_KEY") and env.get("WANDB_MODE", "") not in KEYLESS_MODES:
        print("note: W&B reporting asked, but the pod has no WANDB_API_KEY (the deployment's secrets): not reporting "
              "to W&B", flush=True)
        return []
    env["WANDB_PROJECT"] = project
    if env.get("TRAINPOD_WANDB_NAME"):
        env["WANDB_NAME"] = env["TRAINPOD_WANDB_NAME"]
    env.setdefault("WANDB_LOG_MODEL", "false")  # the weights go to trainpod's storage (and the hub), not W&B
    return ["wandb"]


def wandb_callbacks(report: Reporter, report_to: list[str] | None = None) -> list[Any]:
    """The callback that sends the W&B run's URL once transformers' WandbCallback started the run; none without W&B."""
    if "wandb" not in (wandb_report_to() if report_to is None else report_to):
        return []
    from transformers import TrainerCallback

    write = getattr(report, "write", None)  # ml/reporter.Events: the child's event pipe

    class WandbUrl(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                send_run_url(write)

    return [WandbUrl()]


def send_run_url(write: Any) -> str | None:
    """The current W&B run's URL as a `wandb` event through `write`; None (and a log line) when it has none."""
    import wandb

    run = wandb.run
    url = getattr(run, "url", None) if run is not None else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        print("W&B run %s: no URL (offline): sync it with `wandb sync`" % getattr(run, "id", "not started"), flush=True)
        return None
    print("W&B run: %s" % url, flush=True)
    if callable(write):
        write({"type": "wandb", "url": url})
    return url
