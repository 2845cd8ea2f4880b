"""The trainer's own rendering and token counts of the estimate's fixture datasets (issue 35 item 4): the golden
files the API's estimate (packages/core/src/estimate) must equal, byte for byte and token for token.

    .venv-trainer/bin/python scripts/estimate-golden.py --tokenizer   # rebuilds test/fixtures/estimate/tiny-model
    .venv-trainer/bin/python scripts/estimate-golden.py --write       # rewrites the golden-*.json files
    .venv-trainer/bin/python scripts/estimate-golden.py NAME          # prints one dataset's golden JSON (the test)

The tokenizer is pod-agent/tests/tiny_model.py's (its chat template renders tools and tool calls); the rows go
through the pod agent's own code (ml/data.py: read_rows, format_row, build_examples, prepare_tokenizer), so a change
there shows up here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "estimate")
MODEL = os.path.join(FIXTURES, "tiny-model")
DATASETS = {"chat": "chat.jsonl", "prompt-completion": "prompt-completion.jsonl"}
MAX_SEQ_LENGTH = 128
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
sys.path[:0] = [os.path.join(ROOT, "pod-agent"), os.path.join(ROOT, "pod-agent", "tests")]


def build_tokenizer() -> None:
    """The tiny model's tokenizer files into test/fixtures/estimate/tiny-model (never its weights)."""
    import tiny_model

    with tempfile.TemporaryDirectory() as scratch:
        tiny_model.build(scratch)
        os.makedirs(MODEL, exist_ok=True)
        for name in TOKENIZER_FILES:
            if os.path.exists(os.path.join(scratch, name)):
                shutil.copy(os.path.join(scratch, name), os.path.join(MODEL, name))


def golden(name: str) -> dict:
    """Each row of the dataset as the trainer makes it: its file line, the rendered text, the assistant spans, the
    token ids (uncut), and what build_examples keeps at MAX_SEQ_LENGTH with completion-only loss."""
    from trainpod_agent.ml.data import IGNORE, build_examples, format_row, has_target, prepare_tokenizer, read_rows
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    prepare_tokenizer(tokenizer)
    path = os.path.join(FIXTURES, DATASETS[name])
    rows, fmt = read_rows(path)
    with open(path, encoding="utf-8-sig") as f:
        lines = [n for n, line in enumerate(f, 1) if line.strip()]
    out = []
    for line, row in zip(lines, rows, strict=True):
        text, spans = format_row(tokenizer, row)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        example = build_examples(tokenizer, [row], MAX_SEQ_LENGTH, True)[0]
        out.append(
            {
                "line": line,
                "text": text,
                "spans": spans,
                "ids": ids,
                "keptTokens": len(example["input_ids"]),
                "lossTokens": sum(1 for label in example["labels"] if label != IGNORE),
                "hasTarget": has_target(example),
            }
        )
    return {"dataset": DATASETS[name], "format": fmt, "maxSeqLength": MAX_SEQ_LENGTH, "rows": out}


def main(argv: list[str]) -> None:
    if argv == ["--tokenizer"]:
        build_tokenizer()
    elif argv == ["--write"]:
        for name in DATASETS:
            with open(os.path.join(FIXTURES, f"golden-{name}.json"), "w", encoding="utf-8") as f:
                f.write(json.dumps(golden(name), ensure_ascii=False, indent=1) + "\n")
    elif len(argv) == 1 and argv[0] in DATASETS:
        sys.stdout.write(json.dumps(golden(argv[0]), ensure_ascii=False, indent=1) + "\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
