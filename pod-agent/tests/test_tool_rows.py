"""Tool calls in OpenAI's format (issue 26 item 6): the rows' rules shared with the API (beside the fixtures), the
messages as chat templates take them, the loss on the assistant's turns (its calls included, never a tool's answer),
and a template that cannot render them refused before anything trains. A fake tokenizer (test_data.py's)."""

from __future__ import annotations

from typing import Any

import pytest
from test_data import CHAT, FakeTokenizer, words

from trainpod_agent.ml import data
from trainpod_agent.ml.seam import InputError

TOOL_ROW: dict[str, Any] = {
    "messages": [
        {"role": "user", "content": "weather in Paris?", "name": "u"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        {"role": "assistant", "content": "warm it is"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    "id": 3,
}


def test_tool_rows_become_the_templates_messages() -> None:
    """issue 26 item 6: OpenAI's format (arguments a JSON string, content null) as chat templates take it."""
    assert data.check_row(TOOL_ROW) == "chat"
    assert data.to_messages(TOOL_ROW) == [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
            ],
        },
        {"role": "tool", "content": "18 C", "tool_call_id": "c1"},
        {"role": "assistant", "content": "warm it is"},
    ]
    assert data.for_template(TOOL_ROW)["tools"] == TOOL_ROW["tools"]
    assert "tools" not in data.for_template(CHAT)
    assert "tools" not in data.for_template({"prompt": "p", "completion": "c", "tools": [1]})


def test_tool_calls_are_trained_on_and_tool_answers_are_not() -> None:
    tok = FakeTokenizer()
    text, spans = data.format_row(tok, TOOL_ROW)
    assert spans is not None and [text[a:b] for a, b in spans] == [" call:get_weather</s>", "warm it is</s>"]
    ex = data.build_example(tok, TOOL_ROW, 64, True)
    trained = words(tok, [t for t in ex["labels"] if t != data.IGNORE])
    assert trained == ["call:get_weather</s>", "warm", "it", "is</s>"]  # not "18 C", not the question


def test_a_template_that_drops_tool_calls_or_fails_is_the_users_error() -> None:
    rows = [CHAT, TOOL_ROW]
    data.check_template(FakeTokenizer(), rows)
    data.check_template(FakeTokenizer(calls=False), [CHAT])  # no tool calls: nothing to render
    with pytest.raises(InputError, match="^the base model's chat template does not render tool calls .*get_weather"):
        data.check_template(FakeTokenizer(calls=False), rows)

    class Failing(FakeTokenizer):
        def apply_chat_template(self, messages: list[dict[str, Any]], **kw: Any) -> str:
            if any(m["role"] == "tool" for m in messages):
                raise ValueError("Conversation roles must alternate user/assistant/user/assistant/...")
            return super().apply_chat_template(messages, **kw)

    with pytest.raises(InputError, match="cannot render the dataset's rows: Conversation roles must alternate"):
        data.check_template(Failing(), rows)


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([{"role": "assistant", "content": None}], "messages[0].content must be a string"),
        ([{"role": "assistant", "content": None, "tool_calls": []}], "messages[0].content must be a string"),
        ([{"role": "assistant", "content": "a", "tool_calls": [1]}], "messages[0].tool_calls[0] must be an object"),
        (
            [{"role": "assistant", "tool_calls": [{"id": 1, "function": {"name": "f", "arguments": "{}"}}]}],
            "messages[0].tool_calls[0].id must be a string",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": '{"x": NaN}'}}]}],
            "messages[0].tool_calls[0].function.arguments must be a JSON object or a string of one",
        ),
        (
            [
                {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": 7, "content": "x"},
            ],
            "messages[1].tool_call_id must be a string",
        ),
        (
            [
                {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "user", "content": "q"},
                {"role": "tool", "tool_call_id": "a", "content": "x"},
            ],
            "messages[2]: a tool message must follow an assistant message with tool_calls",
        ),
        (
            [{"role": "tool", "content": "x"}, {"role": "assistant", "content": "a"}],
            "messages[0]: a tool message must follow an assistant message with tool_calls",
        ),
    ],
)
def test_tool_message_rules(messages: list[Any], reason: str) -> None:
    with pytest.raises(InputError) as caught:
        data.check_row({"messages": messages})
    assert str(caught.value) == reason


def test_tools_must_be_functions() -> None:
    for tools, reason in [
        ({}, "tools must be an array"),
        ([{"type": "function", "function": {"name": ""}}], "tools[0].function.name must be a non-empty string"),
        ([{"type": "code", "function": {"name": "f"}}], 'tools[0].type must be "function"'),
    ]:
        with pytest.raises(InputError) as caught:
            data.check_row({"messages": CHAT["messages"], "tools": tools})
        assert str(caught.value) == reason
    assert data.check_row({"prompt": "p", "completion": "c", "tools": 3}) == "prompt_completion"  # ignored there
