"""The run's settings, read once from the environment the worker gave the pod (and RunPod's own variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from trainpod_agent.logbook import user_secret_values


def _uint(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "")
    try:
        number = float(value)
    except ValueError:
        return default
    return number if number >= 0 else default


@dataclass(frozen=True)
class DeadManSettings:
    """When the pod deletes itself: off (None in AgentConfig) without RunPod's pod id, pod-scoped key or API URL."""

    runpod_api_url: str
    pod_id: str
    pod_key: str
    grace_s: float  # after the outcome, the worker's DELETE has this long to come
    max_runtime_s: float  # 0: no limit; else the pod ends itself at this + grace after it first started
    unreachable_s: float  # no report reached the API for this long, and one more fails: the pod ends itself


@dataclass(frozen=True)
class ResultSettings:
    """Where the run's results go besides trainpod (issue 25): the user's Hugging Face repo (its HF_TOKEN) and W&B
    (its WANDB_API_KEY, read by the trainer child: ml/wandb_report.py)."""

    hub_repo: str = ""  # TRAINPOD_HUB_REPO, owner/name: push the output there once uploaded ("": no push)
    hub_merged: bool = False  # TRAINPOD_HUB_MERGED=1: the merged weights too, when the run made them
    hub_endpoint: str = ""  # HF_ENDPOINT ("": huggingface.co; the simulator's pods skip the push without one)
    hf_token: str = field(default="", repr=False)  # HF_TOKEN, the user's secret
    wandb_project: str = ""  # TRAINPOD_WANDB_PROJECT
    wandb_name: str = ""  # TRAINPOD_WANDB_NAME


def load_results(env: Mapping[str, str]) -> ResultSettings:
    return ResultSettings(
        hub_repo=env.get("TRAINPOD_HUB_REPO", ""),
        hub_merged=env.get("TRAINPOD_HUB_MERGED", "") in ("1", "true"),
        hub_endpoint=env.get("HF_ENDPOINT", "").rstrip("/"),
        hf_token=env.get("HF_TOKEN", ""),
        wandb_project=env.get("TRAINPOD_WANDB_PROJECT", ""),
        wandb_name=env.get("TRAINPOD_WANDB_NAME", ""),
    )


@dataclass(frozen=True)
class AgentConfig:
    deployment_id: str
    dataset_url: str
    dataset_sha256: str
    run_token: str
    events_url: str
    artifacts_url: str
    base_model: str
    hyperparameters: str  # JSON, checked by the trainer child
    work_dir: str  # ${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}
    retry_delay_s: float
    heartbeat_s: float
    dead_man: DeadManSettings | None
    missing_for_dead_man: tuple[str, ...]
    simulated: bool  # TRAINPOD_ML=simulated: the simulator's pods
    results: ResultSettings = field(default_factory=ResultSettings)  # hub push and W&B (hub_push.py)
    # the values of the user's secrets (TRAINPOD_SECRET_NAMES): env of the trainer child, masked in every log line
    user_secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def state_dir(self) -> str:
        return os.path.join(self.work_dir, "trainpod")

    @property
    def output_dir(self) -> str:
        return os.path.join(self.work_dir, "fine_tuned_model")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        found = [self.run_token, self.dataset_url, self.dead_man.pod_key if self.dead_man else "",
                 self.results.hf_token, *self.user_secrets]
        return tuple(s for s in found if s)


REQUIRED = ("TRAINPOD_DEPLOYMENT_ID", "TRAINPOD_RUN_TOKEN", "TRAINPOD_EVENTS_URL")


class ConfigError(ValueError):
    pass


def load_config(env: Mapping[str, str] | None = None) -> AgentConfig:
    env = os.environ if env is None else env
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise ConfigError("missing environment variable(s): %s" % ", ".join(missing))
    dm_names = ("RUNPOD_API_KEY", "RUNPOD_POD_ID", "TRAINPOD_RUNPOD_API_URL")
    dm_missing = tuple(n for n in dm_names if not env.get(n))
    dead_man = None
    if not dm_missing:
        dead_man = DeadManSettings(
            runpod_api_url=env["TRAINPOD_RUNPOD_API_URL"].rstrip("/"),
            pod_id=env["RUNPOD_POD_ID"],
            pod_key=env["RUNPOD_API_KEY"],
            grace_s=_uint(env, "TRAINPOD_SELF_TERMINATE_GRACE_S", 120),
            max_runtime_s=_uint(env, "TRAINPOD_MAX_RUNTIME_S", 0),
            unreachable_s=_uint(env, "TRAINPOD_UNREACHABLE_S", 900),
        )
    return AgentConfig(
        deployment_id=env["TRAINPOD_DEPLOYMENT_ID"],
        dataset_url=env.get("TRAINPOD_DATASET_URL", ""),
        dataset_sha256=env.get("TRAINPOD_DATASET_SHA256", ""),
        run_token=env["TRAINPOD_RUN_TOKEN"],
        events_url=env["TRAINPOD_EVENTS_URL"],
        artifacts_url=env.get("TRAINPOD_ARTIFACTS_URL", ""),
        base_model=env.get("TRAINPOD_BASE_MODEL", ""),
        hyperparameters=env.get("TRAINPOD_HYPERPARAMETERS", "{}"),
        work_dir=env.get("RUNPOD_VOLUME_MOUNT_PATH") or "/workspace",
        retry_delay_s=_uint(env, "TRAINPOD_RETRY_DELAY_S", 2),
        heartbeat_s=max(0.05, _uint(env, "TRAINPOD_HEARTBEAT_S", 30)),
        dead_man=dead_man,
        missing_for_dead_man=dm_missing,
        simulated=env.get("TRAINPOD_ML", "") == "simulated",
        results=load_results(env),
        user_secrets=user_secret_values(env),
    )
