"""The simulated ML work: what a real run looks like from outside (phases, sizes, silences, steps, failures,
output files), at sizes and speeds given as `sim_*` hyperparameters, with no ML library at all. The RunPod
simulator's pods run the real agent with this in place of the real trainer (apps/runpod-sim/README.md).

A "scale model" of a 70B run: sim_model_bytes=140e9 with sim_download_bytes_per_s=1.4e9 (100 s), sim_load_s,
sim_rows_per_s on a big dataset, sim_silent_s before step 1, sim_output_shards of sim_shard_bytes each.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
from typing import Any

from trainpod_agent.cache import cache_settings, fill_once, model_folder
from trainpod_agent.clock import Clock, SystemClock
from trainpod_agent.ml import checkpoints
from trainpod_agent.ml.distributed import batch_facts, batch_line
from trainpod_agent.ml.hyperparameters import defaults
from trainpod_agent.ml.seam import Phase, Reporter, RunSpec, SimulatedFailure

OOM_TEXT = (
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB "
    "(GPU 0; 23.65 GiB total capacity; 21.87 GiB already allocated)"
)
TICK_S = 0.25  # how often a long simulated phase advances


def _num(hp: dict[str, Any], key: str, default: float) -> float:
    value = hp.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


class SimulatedML:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    def _spread(self, phase: Phase, total: float, per_s: float) -> None:
        """Advance `phase` from 0 to `total` units at `per_s` units a second."""
        if total <= 0:
            return
        seconds = total / max(per_s, 1e-9)
        ticks = max(1, math.ceil(seconds / TICK_S))
        for i in range(1, ticks + 1):
            self.clock.sleep(seconds / ticks)
            phase.advance(int(total * i / ticks))

    def fetch_model(self, spec: RunSpec, phase: Phase) -> None:
        hp = spec.hyperparameters
        total = int(_num(hp, "sim_model_bytes", 0))
        settings = cache_settings(os.environ)

        def download(folder: str | None) -> dict[str, Any]:
            if total > 0:
                phase.total = total
                print("downloading %s (sim): %d bytes" % (spec.base_model, total), flush=True)
            self._spread(phase, total, _num(hp, "sim_download_bytes_per_s", 1e9))
            if folder is not None:  # the weights' stand-in: the model's config, its size in the cache's marker
                _write_json(os.path.join(folder, "snapshots", "sim", "config.json"), {"_name_or_path": spec.base_model})
            return {"bytes": total}

        if settings is None or settings.hf_home is None:
            download(None)
            phase.note(bytes=total)
            return
        # on the cache volume (HF_HOME): downloaded once per data centre, whole or not at all (cache.py)
        folder = model_folder(settings, spec.base_model)
        hit, _ = fill_once(settings.root, folder, "fill-" + settings.model_lock(spec.base_model), download)
        if hit:
            print("model %s (sim) is on the cache volume: no download" % spec.base_model, flush=True)
        phase.note(bytes=0 if hit else total, cache_hit=int(hit))

    def load(self, spec: RunSpec, phase: Phase) -> None:
        print("Loading base model %s (sim) on %s" % (spec.base_model, os.environ.get("SIM_GPU_NAME", "cpu")),
              flush=True)
        self.clock.sleep(_num(spec.hyperparameters, "sim_load_s", 0))

    def prepare_data(self, spec: RunSpec, phase: Phase) -> None:
        rows = len(spec.rows)
        self._spread(phase, rows, _num(spec.hyperparameters, "sim_rows_per_s", 1e6))
        phase.advance(rows)
        if _num(spec.hyperparameters, "sim_tokens_per_s", 0) > 0:
            cut = int(_num(spec.hyperparameters, "max_seq_length", 1024))
            self.tokens = sum(min(byte_tokens(r), cut) for r in spec.rows)
            phase.note(rows=rows, tokens=self.tokens)

    def train(self, spec: RunSpec, report: Reporter, phase: Phase) -> None:
        hp = spec.hyperparameters
        steps = max(1, int(_num(hp, "steps", 5)))
        phase.total = steps
        step_s = _num(hp, "sim_step_ms", 100) / 1000
        fail_at, hang_at = int(_num(hp, "sim_fail_at_step", 0)), int(_num(hp, "sim_hang_at_step", 0))
        # with an eval set, a falling eval loss every eval_steps (default a tenth of the run) and at the last step
        every = int(_num(hp, "eval_steps", 0)) or max(1, math.ceil(steps / 10))
        evaluated = _num(hp, "eval_fraction", 0) > 0
        eval_loss: float | None = None
        loss = 0.0
        dpo = hp.get("method") == "dpo"  # a growing reward margin, as trl's DPOTrainer logs it
        dpo_step: dict[str, float] = {}
        tokens_per_s = _num(hp, "sim_tokens_per_s", 0)
        trained = int(getattr(self, "tokens", 0) * _num(hp, "epochs", 1))
        if tokens_per_s > 0:
            step_s = trained / tokens_per_s / steps  # the run's real tokens at sim_tokens_per_s
        began = self.clock.monotonic()
        first, saves = self._resumed_step(), _SimCheckpoints(hp, steps, report, self.clock)
        print("Loaded %d examples from %s; training for %d steps" % (len(spec.rows), spec.dataset, steps), flush=True)
        print(batch_line(defaults() | hp), flush=True)  # the launch plan's processes (ml/distributed.py)
        self.clock.sleep(_num(hp, "sim_silent_s", 0))  # a silent trainer: no step, no line
        for step in range(first + 1, steps + 1):
            self.clock.sleep(step_s)
            if fail_at > 0 and step == fail_at:
                message = hp.get("sim_error") if isinstance(hp.get("sim_error"), str) else OOM_TEXT
                trace = ["Traceback (most recent call last):", '  File "train.py", line 214, in <module>',
                         "    trainer.train()", message]
                raise SimulatedFailure("\n".join(trace), int(_num(hp, "sim_exit_code", 1)))
            if hang_at > 0 and step == hang_at:
                print("step %d: hanging (sim)" % step, flush=True)
                while True:
                    self.clock.sleep(3600)
            loss = round(0.4 + 2.1 * math.exp(-3 * step / steps), 4)
            if dpo:  # the margin grows from 0 (the adapter starts as the reference); the loss is -log sigmoid(margin)
                margin = round(3.0 * (1 - math.exp(-3 * (step - 1) / steps)), 4)
                loss, dpo_step = round(math.log1p(math.exp(-margin)), 4), {"reward_margin": margin}
            # the default schedule as transformers runs it: linear decay from learning_rate to 0 over the run
            dpo_step["learning_rate"] = _num(hp, "learning_rate", 2e-4) * (steps - step + 1) / steps
            shown = "".join(" %s %s" % kv for kv in dpo_step.items() if kv[0] != "learning_rate")
            if evaluated and (step % every == 0 or step == steps):
                eval_loss = round(0.5 + 2.0 * math.exp(-2.5 * step / steps), 4)
                print("step %d/%d loss %s eval_loss %s%s" % (step, steps, loss, eval_loss, shown), flush=True)
                report.progress(step, steps, loss, eval_loss=eval_loss, **dpo_step)
            else:
                print("step %d/%d loss %s%s" % (step, steps, loss, shown), flush=True)
                report.progress(step, steps, loss, **dpo_step)
            phase.advance(step)
            saves.after_step(step)
        evaluated_facts = {"eval_loss": eval_loss} if eval_loss is not None else {}
        phase.note(train_loss=loss, **batch_facts(defaults() | hp), **evaluated_facts, **dpo_step)
        seconds = self.clock.monotonic() - began
        if tokens_per_s > 0 and seconds > 0:
            phase.note(tokens_real=trained, tokens_total=trained, real_token_share=1.0,
                       real_tokens_per_s=round(trained / seconds, 1))

    def _resumed_step(self) -> int:
        """The step of the checkpoint to resume from (its trainer_state.json, as transformers reads it), else 0."""
        folder = checkpoints.resume_from()
        if folder is None:
            return 0
        with open(os.path.join(folder, "trainer_state.json")) as f:
            step = int(json.load(f)["global_step"])
        print("resuming from %s at step %d (sim)" % (folder, step), flush=True)
        return step

    def save(self, spec: RunSpec, phase: Phase) -> list[str]:
        hp, out = spec.hyperparameters, spec.output_dir
        os.makedirs(out, exist_ok=True)
        steps = max(1, int(_num(hp, "steps", 5)))
        written = [
            _write_json(os.path.join(out, "adapter_config.json"), {
                "base_model_name_or_path": spec.base_model, "peft_type": "LORA", "task_type": "CAUSAL_LM",
                "r": int(_num(hp, "lora_r", 16)), "lora_alpha": int(_num(hp, "lora_alpha", 32)),
                "lora_dropout": 0.05, "target_modules": ["q_proj", "v_proj"],
            }),
            _write_safetensors(os.path.join(out, "adapter_model.safetensors"), 4096, steps),
            _write_json(os.path.join(out, "trainer_state.json"), {
                "global_step": steps, "max_steps": steps, "num_train_examples": len(spec.rows),
            }),
        ]
        extra = int(_num(hp, "sim_extra_artifact_bytes", 0))
        if extra > 0:
            written.append(_write_pattern(os.path.join(out, "merged", "model.safetensors"), extra, 0))
        shards, shard_bytes = int(_num(hp, "sim_output_shards", 0)), int(_num(hp, "sim_shard_bytes", 0))
        if shards > 0:
            names = ["model-%05d-of-%05d.safetensors" % (i, shards) for i in range(1, shards + 1)]
            for i, name in enumerate(names):
                written.append(_write_pattern(os.path.join(out, "merged", name), shard_bytes, i + 1))
                phase.advance(len(written))
            index = {"metadata": {"total_size": shards * shard_bytes}, "weight_map": {"w%d" % i: n for i, n in
                                                                                     enumerate(names)}}
            written.append(_write_json(os.path.join(out, "merged", "model.safetensors.index.json"), index))
        phase.advance(len(written))
        phase.note(files=len(written), bytes=sum(os.path.getsize(f) for f in written))
        print("Training complete. Adapter saved to %s" % os.path.abspath(out), flush=True)
        return written


class _SimCheckpoints:
    """The simulated trainer's checkpoints, as transformers lays them out (checkpoint-N with trainer_state.json, a
    small adapter and optimizer state), every N steps or M minutes, the last K kept; each staged and announced like
    the real ones (ml/checkpoints.py)."""

    def __init__(self, hp: dict[str, Any], steps: int, report: Reporter, clock: Clock) -> None:
        self.every, self.minutes = checkpoints.every_steps(hp, steps), checkpoints.every_minutes(hp)
        self.steps, self.report, self.clock, self.kept = steps, report, clock, int(hp.get("checkpoints_kept") or 2)
        self.root = checkpoints.checkpoint_dir("")
        self.last = clock.monotonic()

    def after_step(self, step: int) -> None:
        due = self.every is not None and step % self.every == 0
        due = due or (self.minutes is not None and self.clock.monotonic() - self.last >= self.minutes * 60)
        if not due or step >= self.steps or not self.root:
            return
        self.last = self.clock.monotonic()
        folder = os.path.join(self.root, "checkpoint-%d" % step)
        _write_json(os.path.join(folder, "trainer_state.json"), {"global_step": step, "max_steps": self.steps})
        _write_safetensors(os.path.join(folder, "adapter_model.safetensors"), 4096, step)
        _write_pattern(os.path.join(folder, "optimizer.pt"), 8192, step)
        saved = sorted((int(n.split("-")[1]), n) for n in os.listdir(self.root) if n.startswith("checkpoint-"))
        for _, name in saved[: -self.kept]:
            shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
        staging = os.environ.get(checkpoints.STAGING_ENV)
        print("checkpoint at step %d: %s" % (step, folder), flush=True)
        announce = getattr(self.report, "checkpoint", None)
        if staging and announce is not None:
            announce(step, checkpoints.stage(folder, staging, step))


def byte_tokens(row: dict[str, Any]) -> int:
    """The row's tokens as a byte-level tokenizer without merges counts the trainer's DEFAULT_CHAT_TEMPLATE text
    (one token a UTF-8 byte, EOS `</s>` one token): the scale model's token count, which the API's estimate makes
    of the same rows with such a tokenizer (test/e2e/estimate-scale.test.ts)."""
    from trainpod_agent.ml.data import for_template

    shaped = for_template(row)
    count = 0
    if shaped.get("tools"):
        count += len(("<|tools|>\n" + json.dumps(shaped["tools"], ensure_ascii=False)).encode()) + 1 + 1
    for m in shaped["messages"]:
        text = "<|%s|>\n%s" % (m["role"], m["content"])
        for c in m.get("tool_calls") or []:
            text += "<tool_call>%s</tool_call>" % json.dumps(c["function"], ensure_ascii=False)
        count += len(text.encode()) + 1 + 1  # EOS, then "\n"
    return count


def _write_json(path: str, value: dict[str, Any]) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(value, indent=2) + "\n")
    return path


def _write_safetensors(path: str, size: int, seed: int) -> str:
    """A small, well-formed safetensors file: u64 header length, JSON header, tensor bytes."""
    header = json.dumps({
        "__metadata__": {"format": "pt", "sim": "runpod-sim"},
        "base_model.model.lora_A.weight": {"dtype": "F32", "shape": [16, size // 64], "data_offsets": [0, size]},
    }).encode()
    data = bytes((i * 31 + seed) & 0xFF for i in range(size))
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)
    return path


def _write_pattern(path: str, size: int, seed: int) -> str:
    """A big file in 1 MiB chunks of a byte pattern that varies per chunk (never all in memory)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    base = bytes(range(256)) * 4096
    with open(path, "wb") as f:
        written, n = 0, 0
        while written < size:
            shift = (n * 13 + seed * 7) % 256
            chunk = base[shift : shift + min(1 << 20, size - written)]
            f.write(chunk)
            written += len(chunk)
            n += 1
    return path
