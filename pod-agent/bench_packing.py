"""Packing (issue 26 item 2): tokens of real data trained per second, and the share of padding, with trl's packing
(best-fit decreasing, padding-free), padding-free batching alone, and neither (rows padded to the batch's longest),
on the tiny test model (tests/tiny_model.py) and chat rows with a long-tailed spread of lengths
(tiny_model.spread_rows: median ~94 tokens, p90 ~195, max ~550), one epoch of the same rows each, through the real
trainer (RealML: tokenize, SFTTrainer); packing also with one packed sequence per micro-batch and the batch as
gradient accumulation (the same sequences per optimizer step, attention over one sequence at a time). The
configurations take turns, ROUNDS times; the medians are printed, as wall-clock and as CPU time of the process
(what the work costs, whatever else the machine runs).

    OMP_NUM_THREADS=2 ../.venv-trainer/bin/python bench_packing.py [ROWS] [ROUNDS] [BATCH] [MAX_LEN] [HIDDEN]
    (default 256 5 8 512 64; HIDDEN 512 builds the tiny model wider, intermediate 2.75x: see tiny_model.build)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]

import tiny_model  # noqa: E402

from trainpod_agent.ml.hyperparameters import hyperparameters  # noqa: E402
from trainpod_agent.ml.real import RealML  # noqa: E402
from trainpod_agent.ml.seam import RunSpec  # noqa: E402

# name -> hyperparameters over the base; {BATCH} is the base's batch_size (the same rows or bins per optimizer step)
CONFIGS: dict[str, dict[str, Any]] = {
    "padded (neither)": {},
    "padding_free": {"padding_free": True},
    "packing": {"packing": True},
    "packing, batch 1 x accumulation {BATCH}": {"packing": True, "batch_size": 1, "gradient_accumulation_steps": "B"},
}


class Phase:
    def __init__(self) -> None:
        self.total: int | None = None
        self.data: dict[str, Any] = {}

    def advance(self, done: int) -> None:
        pass

    def note(self, **data: Any) -> None:
        self.data.update(data)


class Report:
    def __init__(self) -> None:
        self.steps = 0

    def progress(self, step: int, total_steps: int | None, loss: float | None = None, **metrics: Any) -> None:
        self.steps = step


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def one_run(model: str, rows: list[dict[str, Any]], hp: dict[str, Any]) -> dict[str, float]:
    """One epoch of the rows; the train step timed (wall and CPU), its facts (tokens real / computed)."""
    out = tempfile.TemporaryDirectory(prefix="bench-packing-")
    spec = RunSpec("", out.name, model, hyperparameters(json.dumps(hp)), rows)
    ml, phase, report = RealML(), Phase(), Report()
    with out, quiet():
        ml.fetch_model(spec, Phase())
        ml.load(spec, Phase())
        ml.prepare_data(spec, Phase())
        wall, cpu = time.perf_counter(), cpu_seconds()
        ml.train(spec, report, phase)  # type: ignore[arg-type]
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    real, total = phase.data["tokens_real"], phase.data["tokens_total"]
    return {"wall": wall, "cpu": cpu, "real": real, "total": total, "steps": report.steps,
            "loss": phase.data["train_loss"]}


def main() -> None:
    n, rounds, batch, max_len, hidden = [int(a) for a in sys.argv[1:6]] + [256, 5, 8, 512, 64][len(sys.argv[1:6]) :]
    rows = tiny_model.spread_rows(n)
    base = {"epochs": 1, "batch_size": batch, "gradient_accumulation_steps": 1, "max_seq_length": max_len,
            "learning_rate": 0.001}
    with tempfile.TemporaryDirectory() as work:
        model = tiny_model.build(os.path.join(work, "tiny"), hidden, 128 if hidden == 64 else int(hidden * 2.75))
        one_run(model, rows[:64], dict(base, packing=True))  # warm-up: imports, first allocations
        results: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
        for r in range(rounds):
            for name, extra in CONFIGS.items():
                hp = dict(base, **{k: batch if v == "B" else v for k, v in extra.items()})
                results[name].append(one_run(model, rows, hp))
                got = results[name][-1]
                print(f"round {r + 1} {name}: {got['wall']:.1f} s wall, {got['cpu']:.1f} s cpu, {got['steps']} steps",
                      file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    print(f"{n} chat rows (tiny_model.spread_rows), tiny model hidden {hidden}, batch_size {batch}, max_seq_length "
          f"{max_len}, 1 epoch, "
          f"{rounds} rounds, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"1-min load at the end {load:.1f}\n")
    print("| batching | steps | real tokens | positions computed | real share (pad share) | real tokens/s wall, best "
          "(median) | real tokens per CPU-s, median | vs padded (best wall) | train loss |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    padded = max(r["real"] / r["wall"] for r in results["padded (neither)"])
    for name, runs in results.items():
        real, total = runs[0]["real"], runs[0]["total"]
        best = max(r["real"] / r["wall"] for r in runs)
        wall = statistics.median(r["real"] / r["wall"] for r in runs)
        cpu = statistics.median(r["real"] / r["cpu"] for r in runs)
        print(f"| {name.replace('{BATCH}', str(batch))} | {int(runs[0]['steps'])} | {int(real):,} | {int(total):,} | "
              f"{100 * real / total:.1f}% ({100 * (1 - real / total):.1f}%) | {best:,.0f} ({wall:,.0f}) | {cpu:,.0f} | "
              f"{best / padded:.2f}x | {runs[0]['loss']:.3f} |")


if __name__ == "__main__":
    main()
