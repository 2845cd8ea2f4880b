"""The rows into training examples: datasets.Dataset.map(batched=True, num_proc=N) over the rows, a chunk at a time
so the tokenize phase advances (rows of total); rows left with nothing to train on (a prompt longer than
max_seq_length) are skipped with a warning, and none left is the user's error. datasets is imported inside.

Each map with num_proc > 1 starts a pool of processes (~0.2-0.3 s, the tokenizer pickled to each), so the chunks
are sized by time: a first one of a few thousand rows measures the speed, the next ones take about CHUNK_S each."""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from trainpod_agent.ml.data import build_examples, check_template, for_template, has_target
from trainpod_agent.ml.seam import InputError, Phase

BATCH = 256  # rows per call of the tokenizer
CHUNK_S = 10.0  # seconds per chunk after the first (one phase report each)
ROWS_PER_PROC = 2000  # fewer rows than this per process: fewer processes; also the first chunk's rows per process


def default_num_proc() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def processes(rows: int, num_proc: int | None) -> int:
    """The processes to tokenize `rows` rows with: tokenize_num_proc (default min(8, CPUs)), fewer for few rows."""
    wanted = num_proc or default_num_proc()
    return max(1, min(wanted, math.ceil(rows / ROWS_PER_PROC)))


def _examples(batch: dict[str, list[Any]], tokenizer: Any, max_length: int, completion_only: bool) -> dict[str, Any]:
    rows = [json.loads(row) for row in batch["row"]]
    examples = [e for e in build_examples(tokenizer, rows, max_length, completion_only) if has_target(e)]
    return {"input_ids": [e["input_ids"] for e in examples], "labels": [e["labels"] for e in examples]}


def tokenize(
    tokenizer: Any,
    rows: list[dict[str, Any]],
    max_length: int,
    completion_only: bool,
    phase: Phase,
    num_proc: int | None = None,
) -> Any:
    """A datasets.Dataset of {"input_ids", "labels"}, one per row that has something to train on."""
    if not rows:
        raise InputError("dataset has no rows")
    from datasets import Dataset, concatenate_datasets, disable_progress_bars

    disable_progress_bars()
    check_template(tokenizer, rows)  # here, not in map's processes: its error is the user's, whole
    procs = processes(len(rows), num_proc)
    if procs > 1:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"  # the processes are the parallelism (and fork-safe)
    # each row as JSON text: extra keys, tool calls' arguments and tools differ in shape from row to row (Arrow
    # wants one schema, and would fill the gaps with nulls the template would render)
    source = Dataset.from_dict({"row": [json.dumps(for_template(r)) for r in rows]})
    kwargs = {"max_length": max_length, "completion_only": completion_only}
    parts: list[Any] = []
    start, chunk = 0, procs * ROWS_PER_PROC
    while start < len(rows):
        part = source.select(range(start, min(start + chunk, len(rows))))
        began = time.monotonic()
        parts.append(
            part.map(
                _examples,
                batched=True,
                batch_size=BATCH,
                num_proc=procs if len(part) >= procs * BATCH else None,
                remove_columns=["row"],
                fn_kwargs={"tokenizer": tokenizer, **kwargs},
                new_fingerprint=f"trainpod-tokenize-{len(parts)}",  # no hash of the tokenizer (slow, and warns)
            )
        )
        start += len(part)
        phase.advance(start)
        rate = len(part) / max(time.monotonic() - began, 1e-3)
        chunk = max(procs * BATCH, int(rate * CHUNK_S))
    dataset = concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    skipped = len(rows) - len(dataset)
    if skipped:
        print(
            f"warning: {skipped} row(s) have nothing to train on within max_seq_length {max_length}: skipped",
            flush=True,
        )
    if len(dataset) == 0:
        raise InputError(f"no row has a completion within max_seq_length {max_length}")
    # the rows' real tokens after the cut: what the API's estimate counts before the run (issue 35, one count)
    tokens = sum(len(ids) for ids in dataset["input_ids"])
    phase.note(rows=len(dataset), skipped=skipped, processes=procs, tokens=tokens)
    return dataset
