"""One count (issue 35 item 4), the pod's side: the tokenize phase reports the rows' real tokens after the cut, and
on the estimate's fixture datasets with the tiny model's tokenizer it is the count the API's estimate makes
(test/fixtures/estimate/golden-*.json, which packages/core/src/estimate/estimate-golden.test.ts holds the API to)."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
from recorders import RecordedPhase

from trainpod_agent.ml.data import prepare_tokenizer, read_rows

MISSING = [n for n in ("transformers", "datasets") if importlib.util.find_spec(n) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"not importable: {', '.join(MISSING)} (the trainer venv)")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "estimate")


@pytest.mark.parametrize("name", ["chat", "prompt-completion"])
def test_the_tokenize_phase_reports_the_tokens_the_estimate_counts(name: str) -> None:
    from transformers import AutoTokenizer

    from trainpod_agent.ml.real_tokenize import tokenize

    with open(os.path.join(FIXTURES, f"golden-{name}.json"), encoding="utf-8") as f:
        golden = json.load(f)
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "tiny-model"))
    prepare_tokenizer(tokenizer)
    rows, _fmt = read_rows(os.path.join(FIXTURES, golden["dataset"]))
    phase = RecordedPhase("tokenize", len(rows), "rows")
    tokenize(tokenizer, rows, golden["maxSeqLength"], True, phase, num_proc=1)
    trained = [r for r in golden["rows"] if r["hasTarget"]]
    assert phase.data["tokens"] == sum(r["keptTokens"] for r in trained) > 0
    assert phase.data["rows"] == len(trained) and phase.data["skipped"] == len(rows) - len(trained) > 0
