"""Tokenization speed: rows/s of the tokenize step (ml/real_tokenize.py) on N synthetic chat rows with the tiny
test tokenizer, with 1 and 2 processes, beside the old trainer's way (one tokenizer call a row, in a list).

    OMP_NUM_THREADS=2 ../.venv-trainer/bin/python bench_tokenize.py [ROWS] [PROCS...]   (default 100000 1 2)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]

import tiny_model  # noqa: E402

from trainpod_agent.ml.data import build_example, has_target, prepare_tokenizer  # noqa: E402
from trainpod_agent.ml.real_tokenize import tokenize  # noqa: E402


class Phase:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.data: dict[str, Any] = {}

    def advance(self, done: int) -> None:
        self.done = done

    def note(self, **data: Any) -> None:
        self.data.update(data)


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the pool's processes): the work, whatever the load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    procs = [int(p) for p in sys.argv[2:]] or [1, 2]
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as work:
        tok = AutoTokenizer.from_pretrained(tiny_model.build(os.path.join(work, "tiny")))
    prepare_tokenizer(tok)
    rows = tiny_model.rows("chat", n)
    print(f"{n} chat rows, tiny tokenizer, {os.cpu_count()} CPUs")
    start, cpu = time.perf_counter(), cpu_seconds()
    old = [e for e in (build_example(tok, r, 1024, True) for r in rows) if has_target(e)]
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(f"old way (a tokenizer call a row, in a list): {n / seconds:,.0f} rows/s ({seconds:.1f} s, cpu {cpu:.1f} s)")
    for p in procs:
        phase = Phase()
        start, cpu = time.perf_counter(), cpu_seconds()
        dataset = tokenize(tok, rows, 1024, True, phase, num_proc=p)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        assert len(dataset) == len(old) and phase.done == n
        used = phase.data["processes"]
        print(f"tokenize_num_proc {p} (processes {used}): {n / seconds:,.0f} rows/s ({seconds:.1f} s, cpu {cpu:.1f} s)")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
