"""The dataset's rows: the checks shared with the API, and the tokenizer-side helpers (standard library only).

The row rules are the API's (packages/core/src/datasets/jsonl-format.ts, chat-messages.ts; here and in messages.py);
tests/fixtures/datasets* holds the files both sides must decide alike. The helpers below take a tokenizer object
(a transformers fast tokenizer) and import nothing heavy.
"""

from __future__ import annotations

import json
from typing import Any

from trainpod_agent.ml.messages import Message, call_names, check_messages, check_tools, to_template
from trainpod_agent.ml.preference import check_preference
from trainpod_agent.ml.seam import InputError

# for a base model without a chat template: each message, an assistant's tool calls as JSON, the row's tools first
DEFAULT_CHAT_TEMPLATE = (
    "{% if tools %}<|tools|>\n{{ tools | tojson }}{{ eos_token }}\n{% endif %}"
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if m['tool_calls'] is defined %}{% for c in m['tool_calls'] %}<tool_call>{{ c['function'] | tojson }}"
    "</tool_call>{% endfor %}{% endif %}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
IGNORE = -100  # a label the loss skips

Example = dict[str, list[int]]


def check_row(row: Any) -> str:
    """The row's format ("chat", "prompt_completion", or for DPO "preference" / "preference_chat": preference.py)
    or InputError: the API's checkLine rule. Extra keys ignored."""
    if not isinstance(row, dict):
        raise InputError("not a JSON object")
    if "messages" in row:
        check_messages(row["messages"])
        check_tools(row.get("tools"))
        return "chat"
    if "chosen" in row or "rejected" in row:
        return check_preference(row)
    if "prompt" in row or "completion" in row:
        if not isinstance(row.get("prompt"), str):
            raise InputError("prompt must be a string")
        if not isinstance(row.get("completion"), str):
            raise InputError("completion must be a string")
        return "prompt_completion"
    raise InputError(
        'unsupported shape: expected {"messages":[...]}, {"prompt":...,"completion":...} or '
        '{"prompt":...,"chosen":...,"rejected":...}'
    )


def read_rows(path: str) -> tuple[list[dict[str, Any]], str]:
    """(rows, format): every non-empty line one row, all in one format; InputError names the first bad line."""
    rows: list[dict[str, Any]] = []
    fmt: str | None = None
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise InputError(f"dataset line {number}: not valid JSON") from None
            try:
                this = check_row(row)
            except InputError as err:
                raise InputError(f"dataset line {number}: {err}") from None
            if fmt is None:
                fmt = this
            elif this != fmt:
                raise InputError(
                    f"dataset line {number}: format {this} differs from the dataset's {fmt} (mixed formats)"
                )
            rows.append(row)
    if not rows or fmt is None:
        raise InputError("dataset has no rows")
    return rows, fmt


def to_messages(row: dict[str, Any]) -> list[Message]:
    """The row as the chat template's messages (messages.to_template; prompt/completion: a user/assistant pair)."""
    if "messages" in row:
        return [to_template(m) for m in row["messages"]]
    return [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["completion"]}]


def for_template(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the template renders it: {"messages"} and, when it lists any, {"tools"} (extra keys dropped)."""
    tools = row.get("tools") if "messages" in row else None
    return {"messages": to_messages(row), **({"tools": tools} if tools else {})}


def format_row(tokenizer: Any, row: dict[str, Any]) -> tuple[str, list[tuple[int, int]] | None]:
    """(text, spans): the row rendered by the chat template, ending with EOS, and the character spans of the
    assistant turns, tool calls included (what completion-only loss trains on: never a tool's answer); spans None
    when the template's renders of the conversation's beginnings are not prefixes of the whole (then the whole
    text is trained on)."""
    messages, tools = to_messages(row), (row.get("tools") if "messages" in row else None)
    extra = {"tools": tools} if tools else {}

    def render(ms: list[Message], gen: bool = False) -> str:
        return str(tokenizer.apply_chat_template(ms, tokenize=False, add_generation_prompt=gen, **extra))

    text = render(messages)
    if not text.rstrip().endswith(tokenizer.eos_token):
        text += tokenizer.eos_token
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = render(messages[:i], gen=True) if i > 0 else ""
        through = (text if i == len(messages) - 1 else render(messages[: i + 1])).rstrip()
        if not text.startswith(before) or not text.startswith(through):
            return text, None
        spans.append((len(before), len(through)))
    return text, spans


def check_template(tokenizer: Any, rows: list[dict[str, Any]]) -> None:
    """InputError when the model's chat template cannot render the dataset: the first row, and the first row with
    tool calls, whose every call's function name must be in an assistant turn (a template without tools drops
    them, and the model would learn to answer a call with nothing)."""
    first_call = next((r for r in rows if any(m.get("tool_calls") for m in r.get("messages") or ())), None)
    for row in [rows[0]] + ([first_call] if first_call is not None else []):
        try:
            text, spans = format_row(tokenizer, row)
        except Exception as err:  # jinja's TemplateError, raise_exception in the template, a missing key
            raise InputError(f"the base model's chat template cannot render the dataset's rows: {err}") from None
        turns = [text[a:b] for a, b in spans] if spans is not None else [text]
        for name in (n for m in to_messages(row) for n in call_names(m)):
            if not any(name in turn for turn in turns):
                raise InputError(
                    f"the base model's chat template does not render tool calls (function {name} is not in the "
                    "text it makes of the row): choose a model whose template supports tools"
                )


def _labels(
    ids: list[int], offsets: list[tuple[int, int]], spans: list[tuple[int, int]] | None, only: bool
) -> list[int]:
    if not only or spans is None:
        return list(ids)
    return [t if any(s <= a < e for s, e in spans) else IGNORE for t, (a, _b) in zip(ids, offsets, strict=False)]


def build_examples(tokenizer: Any, rows: list[dict[str, Any]], max_length: int, completion_only: bool) -> list[Example]:
    """build_example for many rows, with one call of the (fast, batched) tokenizer."""
    if not rows:
        return []
    formatted = [format_row(tokenizer, row) for row in rows]
    enc = tokenizer([text for text, _ in formatted], add_special_tokens=False, return_offsets_mapping=True)
    out: list[Example] = []
    for (_text, spans), ids, offsets in zip(formatted, enc["input_ids"], enc["offset_mapping"], strict=False):
        labels = _labels(ids, offsets, spans, completion_only)
        out.append({"input_ids": list(ids[:max_length]), "labels": labels[:max_length]})
    return out


def build_example(tokenizer: Any, row: dict[str, Any], max_length: int, completion_only: bool) -> Example:
    """{"input_ids", "labels"} for one row: prompt tokens -100 when completion_only, EOS kept, cut to max_length."""
    return build_examples(tokenizer, [row], max_length, completion_only)[0]


def has_target(example: Example) -> bool:
    """Whether the example has a token to train on (a long prompt cut at max_length may leave none)."""
    return any(label != IGNORE for label in example["labels"])


def prepare_tokenizer(tokenizer: Any) -> bool:
    """Right padding with a pad token distinct from EOS. True when a token was added (resize the embeddings)."""
    tokenizer.padding_side = "right"
    if tokenizer.chat_template is None:
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    if tokenizer.pad_token is not None and tokenizer.pad_token_id != tokenizer.eos_token_id:
        return False
    if tokenizer.unk_token is not None and tokenizer.unk_token_id != tokenizer.eos_token_id:
        tokenizer.pad_token = tokenizer.unk_token
        return False
    tokenizer.add_special_tokens({"pad_token": "<|trainpod_pad|>"})
    return True
