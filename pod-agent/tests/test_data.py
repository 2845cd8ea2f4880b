"""ml/data.py: the row rules shared with the API (the fixtures), and the tokenizer-side helpers on a fake tokenizer
(standard library only: the real tokenizer's side is in test_real_training.py)."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from trainpod_agent.ml import data
from trainpod_agent.ml.seam import InputError

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
with open(os.path.join(FIXTURES, "datasets.json"), encoding="utf-8") as _f:
    EXPECTED = {k: v for k, v in json.load(_f).items() if not k.startswith("/")}


def test_there_are_fixtures() -> None:
    assert len(EXPECTED) > 5


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_datasets_shared_fixtures(name: str) -> None:
    """issue 15, finding 2: the rows the API's validator accepts (jsonl-validator.test.ts runs the same files)."""
    want, path = EXPECTED[name], os.path.join(FIXTURES, "datasets", name)
    if "format" in want:
        rows, fmt = data.read_rows(path)
        assert (len(rows), fmt) == (want["rows"], want["format"])
    else:
        with pytest.raises(InputError) as caught:
            data.read_rows(path)
        assert str(caught.value) == f"dataset line {want['line']}: {want['reason']}"


def write(tmp_path: Any, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "rows.jsonl"
    path.write_text(text, encoding=encoding)
    return str(path)


def test_read_rows_names_the_line_skips_blank_lines_and_reads_a_bom(tmp_path: Any) -> None:
    good = [{"prompt": f"p{i}", "completion": "c"} for i in range(3)]
    text = "\n".join(json.dumps(r) for r in good) + "\n\n" + json.dumps({"prompt": "p", "completion": 3}) + "\n"
    with pytest.raises(InputError, match=r"^dataset line 5: completion must be a string$"):
        data.read_rows(write(tmp_path, text))
    rows, fmt = data.read_rows(write(tmp_path, "\n".join(json.dumps(r) for r in good), encoding="utf-8-sig"))
    assert (rows, fmt) == (good, "prompt_completion")
    with pytest.raises(InputError, match="^dataset has no rows$"):
        data.read_rows(write(tmp_path, "\n  \n"))
    with pytest.raises(InputError, match="mixed formats"):
        data.read_rows(
            write(
                tmp_path, json.dumps(good[0]) + "\n" + json.dumps({"messages": [{"role": "assistant", "content": "a"}]})
            )
        )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([1], "not a JSON object"),
        ({"messages": []}, "messages must be a non-empty array"),
        ({"messages": ["x"]}, "messages[0] must be an object"),
        (
            {"messages": [{"role": "robot", "content": "x"}]},
            "messages[0].role must be one of system, user, assistant, tool",
        ),
        ({"messages": [{"role": "user", "content": None}]}, "messages[0].content must be a string"),
        ({"messages": [{"role": "user", "content": "q"}]}, "messages must include an assistant message"),
        ({"prompt": 1, "completion": "c"}, "prompt must be a string"),
        ({"completion": "c"}, "prompt must be a string"),
        (
            {"text": "t"},
            'unsupported shape: expected {"messages":[...]}, {"prompt":...,"completion":...} or '
            '{"prompt":...,"chosen":...,"rejected":...}',
        ),
    ],
)
def test_check_row_refuses(row: Any, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        data.check_row(row)
    assert str(caught.value) == reason


def test_to_messages_keeps_role_and_content_only_outside_tool_calls() -> None:
    row = {
        "id": 1,
        "messages": [
            {"role": "user", "content": "a", "name": "x"},
            {"role": "assistant", "content": "b", "tool_calls": []},
        ],
    }
    assert data.to_messages(row) == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert data.to_messages({"prompt": "p", "completion": "c", "id": 2}) == [
        {"role": "user", "content": "p"},
        {"role": "assistant", "content": "c"},
    ]


class FakeTokenizer:
    """A word-level tokenizer with the TinyLlama-like template: enough for the helpers' logic, no libraries."""

    eos_token, eos_token_id, unk_token, unk_token_id = "</s>", 2, "<unk>", 0

    def __init__(
        self, pad: str | None = "</s>", template: str | None = "set", prefix_safe: bool = True, calls: bool = True
    ) -> None:
        self.pad_token, self.chat_template, self.prefix_safe, self.render_calls = pad, template, prefix_safe, calls
        self.padding_side = "left"
        self.vocab: dict[str, int] = {"<unk>": 0, "<s>": 1, "</s>": 2}
        self.added: list[dict[str, str]] = []

    @property
    def pad_token_id(self) -> int | None:
        return None if self.pad_token is None else self.vocab.setdefault(self.pad_token, len(self.vocab))

    def apply_chat_template(
        self, messages: list[dict[str, Any]], tokenize: bool, add_generation_prompt: bool, tools: Any = None
    ) -> str:
        assert tokenize is False
        calls = self.render_calls

        def call_text(m: dict[str, Any]) -> str:
            return "".join(f" call:{c['function']['name']}" for c in m.get("tool_calls") or []) if calls else ""

        text = "".join(f"<|{m['role']}|>\n{m['content']}{call_text(m)}</s>\n" for m in messages)
        if not self.prefix_safe:
            text = f"[{len(messages)}]" + text
        return text + ("<|assistant|>\n" if add_generation_prompt else "")

    def __call__(self, texts: list[str], add_special_tokens: bool, return_offsets_mapping: bool) -> dict[str, Any]:
        ids, offsets = [], []
        for text in texts:
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            ids.append([self.vocab.setdefault(text[a:b], len(self.vocab)) for a, b in spans])
            offsets.append(spans)
        return {"input_ids": ids, "offset_mapping": offsets}

    def add_special_tokens(self, tokens: dict[str, str]) -> None:
        self.added.append(tokens)
        self.pad_token = tokens["pad_token"]


CHAT = {
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "colour of sky?"},
        {"role": "assistant", "content": "blue it is"},
    ]
}


def words(tok: FakeTokenizer, ids: list[int]) -> list[str]:
    names = {v: k for k, v in tok.vocab.items()}
    return [names[i] for i in ids]


def test_format_row_spans_cover_the_assistant_turns_and_end_with_eos() -> None:
    tok = FakeTokenizer()
    text, spans = data.format_row(tok, CHAT)
    assert text.endswith("blue it is</s>\n")
    assert spans is not None and [text[a:b] for a, b in spans] == ["blue it is</s>"]
    two = {
        "messages": CHAT["messages"]
        + [{"role": "user", "content": "and grass?"}, {"role": "assistant", "content": "green"}]
    }
    text, spans = data.format_row(tok, two)
    assert spans is not None and [text[a:b] for a, b in spans] == ["blue it is</s>", "green</s>"]
    assert data.format_row(FakeTokenizer(prefix_safe=False), CHAT)[1] is None


def test_build_example_masks_the_prompt_keeps_eos_and_cuts() -> None:
    tok = FakeTokenizer()
    ex = data.build_example(tok, {"prompt": "sky colour?", "completion": "blue"}, 64, True)
    trained = [t for t in ex["labels"] if t != data.IGNORE]
    assert words(tok, trained) == ["blue</s>"]
    assert ex["labels"][: ex["labels"].index(trained[0])] == [data.IGNORE] * ex["labels"].index(trained[0])
    everything = data.build_example(tok, CHAT, 64, False)
    assert everything["labels"] == everything["input_ids"]
    cut = data.build_example(tok, CHAT, 3, True)
    assert len(cut["input_ids"]) == len(cut["labels"]) == 3
    assert not data.has_target(cut) and data.has_target(ex)
    # a template whose beginnings are not prefixes of the whole: the whole text is trained on
    unsafe = data.build_example(FakeTokenizer(prefix_safe=False), CHAT, 64, True)
    assert unsafe["labels"] == unsafe["input_ids"]


def test_build_examples_is_build_example_for_each_row() -> None:
    rows: list[dict[str, Any]] = [CHAT, {"prompt": "p q", "completion": "c"}]
    tok = FakeTokenizer()
    assert data.build_examples(tok, rows, 8, True) == [data.build_example(tok, r, 8, True) for r in rows]
    assert data.build_examples(tok, [], 8, True) == []


def test_prepare_tokenizer_pads_right_with_a_token_that_is_not_eos() -> None:
    tok = FakeTokenizer(pad="</s>", template=None)
    assert data.prepare_tokenizer(tok) is False
    assert (tok.padding_side, tok.pad_token, tok.chat_template) == ("right", "<unk>", data.DEFAULT_CHAT_TEMPLATE)
    own = FakeTokenizer(pad="<pad>")
    assert data.prepare_tokenizer(own) is False and own.pad_token == "<pad>" and own.chat_template == "set"
    bare = FakeTokenizer(pad=None)
    bare.unk_token = None  # type: ignore[assignment]
    assert data.prepare_tokenizer(bare) is True
    assert bare.added == [{"pad_token": "<|trainpod_pad|>"}]

