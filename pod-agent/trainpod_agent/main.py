"""The supervisor: walks a run's phases on the pod and reports each; owns liveness, the log and the outcome.

setup (system info, `started`) → dataset_download → the trainer child (model_download, load, tokenize, train,
save: its own phases) → upload → the hub push when asked (hub_push.py: never a failure) → `completed`, or
`failed` with the phase, the exit code, the cause and the last lines. Exactly one outcome is reported; then the
worker deletes the pod, or the pod deletes itself after the grace.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from trainpod_agent.checkpoint_upload import CheckpointUploader, download_checkpoint
from trainpod_agent.clock import Clock, SystemClock
from trainpod_agent.config import AgentConfig, ConfigError, load_config
from trainpod_agent.http import HttpError, RetryPolicy
from trainpod_agent.hub_push import push_output
from trainpod_agent.install import InstallFailed, ModelRefused, Prepared, prepare
from trainpod_agent.liveness import Liveness
from trainpod_agent.logbook import Logbook
from trainpod_agent.ml import checkpoints
from trainpod_agent.ml.distributed import PROCESSES_ENV, gpu_count, launch_plan
from trainpod_agent.ml.reporter import Events
from trainpod_agent.once import OutcomeMarker, exit_code_of, hold_run_lock
from trainpod_agent.outbox import Outbox
from trainpod_agent.run_client import RunClient
from trainpod_agent.supervisor import TrainerProcess, package_root, trainer_argv, trainer_env
from trainpod_agent.transfer.common import TransferError
from trainpod_agent.transfer.download import download_dataset
from trainpod_agent.transfer.upload import upload_outputs
from trainpod_agent.vocabulary import EXIT_MODEL_ACCESS, cause_of_exit

PACKAGES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate")


class RunFailed(Exception):
    def __init__(self, exit_code: int, phase: str, cause: str, message: str) -> None:
        super().__init__(message)
        self.exit_code, self.phase, self.cause, self.message = exit_code, phase, cause, message


def package_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in PACKAGES:
        try:
            found.append("%s %s" % (name, version(name)))
        except PackageNotFoundError:
            found.append("%s missing" % name)
    return ", ".join(found)


def gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip().splitlines()
        return out[0] if out else "No GPU"
    except (OSError, subprocess.SubprocessError):
        return "No GPU"


class Run:
    def __init__(self, cfg: AgentConfig, clock: Clock) -> None:
        self.cfg, self.clock = cfg, clock
        os.makedirs(cfg.state_dir, exist_ok=True)
        os.makedirs(cfg.output_dir, exist_ok=True)
        self.log = Logbook(os.path.join(cfg.state_dir, "run.log"), clock, cfg.secrets)
        self.policy = RetryPolicy(retries=5, delay=cfg.retry_delay_s)
        self.client = RunClient(cfg.events_url, cfg.artifacts_url, cfg.run_token, clock, cfg.state_dir,
                                self.policy, self.log)
        self.outbox = Outbox(self.client, policy=RetryPolicy(retries=5, delay=min(1.0, cfg.retry_delay_s)))
        self.events = Events(self.outbox.send, clock)
        self.liveness = Liveness(cfg.dead_man, self.client, clock, cfg.state_dir, cfg.heartbeat_s, self.log)
        self.trainer: TrainerProcess | None = None
        self.resume_dir: str | None = None  # the downloaded checkpoint this attempt resumes from (issue 27)
        self.marker = OutcomeMarker(os.path.join(cfg.state_dir, "outcome.json"), cfg.deployment_id)
        self.prepared = Prepared(python=sys.executable)  # the install phase's trainer python and env (install.py)

    def ship_logs(self) -> None:
        for batch in self.log.take_batches():
            self.outbox.send({"type": "log", "lines": batch})

    def ship_logs_while_running(self) -> None:
        """The log reaches the API as the run goes (a pod deleted while hanging still shipped its lines): a full
        batch at once, the rest every `every` seconds (few partial batches: the API keeps 500 batches a run)."""
        every = min(300.0, max(1.0, self.cfg.heartbeat_s * 10))
        last = self.clock.monotonic()
        while True:
            self.clock.sleep(min(5.0, every))
            if self.log.pending() >= 100 or self.clock.monotonic() - last >= every:
                last = self.clock.monotonic()
                self.ship_logs()

    def setup(self) -> None:
        cfg = self.cfg
        if cfg.dead_man is None:
            self.log("dead-man switch off: missing %s" % " ".join(cfg.missing_for_dead_man))
        gpu, python = gpu_name(), "Python %s" % platform.python_version()
        self.log("trainpod run %s on pod %s (%s)" % (cfg.deployment_id, os.environ.get("RUNPOD_POD_ID", "unknown"),
                                                     socket.gethostname()))
        self.log("date: %s | gpu: %s | %s" % (time.strftime("%c", time.gmtime(self.clock.now())), gpu, python))
        packages = package_versions()
        self.log("trainer packages: %s" % packages)
        system = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock.now())), "gpu": gpu,
                  "python": python, "hostname": socket.gethostname(), "podId": os.environ.get("RUNPOD_POD_ID", ""),
                  "packages": packages, "agent": "trainpod-agent"}
        # the pod's first report (PROVISIONING → RUNNING); then the setup phase, with the bootstrap's own time
        self.outbox.send({"type": "started", "system": system})
        with self.events.phase("setup") as phase:
            booted = os.environ.get("TRAINPOD_BOOTSTRAP_STARTED", "")
            if booted.isdigit():
                phase.note(bootstrapSeconds=max(0, int(self.clock.now()) - int(booted)))

    def install(self) -> None:
        """The trainer's packages (and HF_HOME) through the data centre's cache volume, when the pod has one."""
        try:
            self.prepared = prepare(self.cfg.simulated, self.cfg.hyperparameters, self.cfg.base_model, self.events,
                                    self.clock, self.log)
        except InstallFailed as err:
            raise RunFailed(1, "install", "setup", str(err)) from None
        except ModelRefused as err:
            raise RunFailed(EXIT_MODEL_ACCESS, "model_download", "model_access", str(err)) from None

    def dataset(self) -> str:
        path = os.path.join(self.cfg.state_dir, "dataset.jsonl")
        started = self.clock.monotonic()
        self.log("downloading the dataset")
        with self.events.phase("dataset_download", unit="bytes") as phase:
            try:
                size = download_dataset(self.cfg.dataset_url, self.cfg.dataset_sha256, path, self.client,
                                        self.clock, self.policy, self.log, phase)
            except TransferError as err:
                raise RunFailed(1, "dataset_download", "dataset_download", err.why) from None
        seconds = int(self.clock.monotonic() - started)
        self.outbox.send({"type": "dataset_downloaded", "bytes": size, "seconds": seconds})
        return path

    def train(self, dataset: str) -> None:
        cfg = self.cfg
        self.log("training %s" % cfg.base_model)
        env = {**trainer_env(os.environ, package_root()), **self.prepared.env}
        argv = trainer_argv(self.prepared.python, dataset, cfg.output_dir, cfg.base_model, cfg.hyperparameters)
        plan = launch_plan(argv, gpu_count(os.environ), cfg.hyperparameters)  # gpuCount > 1: torchrun
        for line in plan.lines(cfg.simulated):
            self.log(line)
        env[PROCESSES_ENV] = str(plan.processes)
        env.update(self.checkpoint_env())
        uploads = CheckpointUploader(self.client, self.clock, self.policy, self.log, cfg.state_dir)

        def on_event(event: dict[str, Any]) -> None:  # a staged checkpoint goes up in the background, not to /events
            if event.get("type") == "checkpoint" and isinstance(event.get("step"), int) and event.get("dir"):
                uploads.offer(event["step"], str(event["dir"]))
            else:
                self.outbox.send(event)

        command = plan.command(cfg.simulated)
        self.trainer = TrainerProcess(command, env, self.log, on_event, cwd=cfg.state_dir)
        code = self.trainer.wait()
        self.trainer = None
        # done: a checkpoint no longer matters; failed: the one on its way may serve a resume, so it gets a while
        uploads.close(wait_s=0 if code == 0 else 120)
        if code != 0:
            self.log("training failed with exit code %d" % code)
            raise RunFailed(code if code > 0 else 128 - code, "train", cause_of_exit(code),
                            "training exited with code %d" % code)

    def checkpoint_env(self) -> dict[str, str]:
        """Where the trainer writes and stages its checkpoints (the volume), and the one to resume from."""
        staging = os.path.join(self.cfg.state_dir, "checkpoint-staging")
        os.makedirs(staging, exist_ok=True)
        env = {checkpoints.CHECKPOINT_DIR_ENV: os.path.join(self.cfg.state_dir, "checkpoints"),
               checkpoints.STAGING_ENV: staging}
        if self.resume_dir:
            env[checkpoints.RESUME_ENV] = self.resume_dir
        return env

    def resume(self) -> None:
        """A resumed attempt (TRAINPOD_RESUME_FROM): the checkpoint downloaded before the trainer starts."""
        path = os.environ.get("TRAINPOD_RESUME_FROM", "")
        if not path:
            return
        self.log("this attempt resumes from %s" % path)
        try:
            _step, self.resume_dir = download_checkpoint(self.client, self.cfg.run_token, self.clock, self.policy,
                                                         self.log, os.path.join(self.cfg.state_dir, "resume"))
        except TransferError as err:
            raise RunFailed(1, "dataset_download", "dataset_download", err.why) from None

    def upload(self) -> None:
        with self.events.phase("upload", unit="bytes") as phase:
            try:
                upload_outputs(self.cfg.output_dir, self.client, self.clock, self.policy, self.log, phase,
                               state_path=os.path.join(self.cfg.state_dir, "uploads.json"))
            except (TransferError, HttpError) as err:
                why = err.why if err.why.startswith("upload") else "upload failed: %s" % err.why
                raise RunFailed(1, "upload", "upload", why) from None

    def push_to_hub(self) -> None:
        """With a hub repo: the output, stored in trainpod already, pushed there too; the `hub_push` report says how
        it went (a failed push never fails the run: hub_push.py)."""
        results = self.cfg.results
        if results.hub_repo:
            self.outbox.send(push_output(self.cfg.output_dir, results, self.clock, self.log,
                                         delay=self.cfg.retry_delay_s, simulated=self.cfg.simulated))

    def outcome(self, body: dict[str, Any]) -> None:
        """The one outcome: marked on the volume first (a restart never trains again), everything queued sent
        (the log included), then the outcome itself, with retries."""
        self.marker.write(body)
        self.ship_logs()
        self.outbox.flush()
        self.client.try_event(body)

    def execute(self) -> int:
        self._lock = hold_run_lock(os.path.join(self.cfg.state_dir, "agent.lock"), self.log)
        self.liveness.start()
        threading.Thread(target=self.ship_logs_while_running, name="trainpod-logs", daemon=True).start()
        reported = self.marker.read()
        if reported is not None:
            code = exit_code_of(reported)
            self.log("this run's outcome (%s, exit code %d) was reported already: not training again"
                     % (reported["type"], code))
            self.client.try_event(reported)  # once more: the API applies the first outcome only
            self.liveness.after_outcome(code)
            return code
        try:
            self.setup()
            self.install()
            dataset = self.dataset()
            self.resume()
            self.train(dataset)
            self.prepared.after_run(self.cfg.base_model, self.clock.now(), self.log)
            self.upload()
            self.push_to_hub()
        except RunFailed as failure:
            return self.fail(failure)
        except Exception as err:  # the agent's own bug: still one clear outcome, never a silent pod
            why = "trainpod agent error: %s: %s" % (type(err).__name__, err)
            return self.fail(RunFailed(1, "setup", "setup", why))
        self.log("completed")
        self.outcome({"type": "completed"})
        self.liveness.after_outcome(0)
        return 0

    def fail(self, failure: RunFailed) -> int:
        self.log("error: %s" % failure.message)
        self.outcome({"type": "failed", "phase": failure.phase, "exitCode": failure.exit_code,
                      "cause": failure.cause, "message": self.log.mask(failure.message)[:2000],
                      "lines": self.log.tail(100)})
        self.liveness.after_outcome(failure.exit_code)
        return failure.exit_code

    def stop(self, *_args: object) -> None:
        """RunPod stops the container (SIGTERM): stop the trainer's whole group, then exit."""
        if self.trainer is not None:
            self.trainer.stop(self.clock)
        raise SystemExit(143)


def main() -> int:
    try:
        cfg = load_config()
    except ConfigError as err:
        print("trainpod agent: %s" % err, file=sys.stderr, flush=True)
        return 2
    run = Run(cfg, SystemClock())
    signal.signal(signal.SIGTERM, run.stop)
    return run.execute()
