"""A chat row's messages, checked, and turned into what a chat template renders (standard library only).

OpenAI's format (issue 26 item 6): roles system, user, assistant and tool; an assistant message may carry
`tool_calls` ([{"id", "type": "function", "function": {"name", "arguments"}}], its content then a string, null or
absent), each tool message answers a call of the assistant message before it (`tool_call_id`), and the row may
list its `tools` ([{"type": "function", "function": {"name", "description", "parameters"}}]). The API checks the
same rules with the same messages (packages/core/src/datasets/chat-messages.ts); tests/fixtures/datasets* holds
the files both sides must decide alike. Other keys are ignored.
"""

from __future__ import annotations

import json
from typing import Any

from trainpod_agent.ml.seam import InputError

ROLES = ("system", "user", "assistant", "tool")
Message = dict[str, Any]


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json reads them, JavaScript's does not


def _arguments(value: Any) -> dict[str, Any] | None:
    """A call's arguments as an object: given as one, or as a string of one (OpenAI's way); else None."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_constant=_json_constant)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _check_calls(where: str, calls: Any) -> list[str | None]:
    """The ids of an assistant message's tool calls (None for a call without one), or InputError."""
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise InputError(f"{where}.tool_calls must be an array")
    ids: list[str | None] = []
    for j, call in enumerate(calls):
        at = f"{where}.tool_calls[{j}]"
        if not isinstance(call, dict):
            raise InputError(f"{at} must be an object")
        if "id" in call and not isinstance(call["id"], str):
            raise InputError(f"{at}.id must be a string")
        if "type" in call and call["type"] != "function":
            raise InputError(f'{at}.type must be "function"')
        function = call.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError(f"{at}.function.name must be a non-empty string")
        if _arguments(function.get("arguments")) is None:  # type: ignore[union-attr]
            raise InputError(f"{at}.function.arguments must be a JSON object or a string of one")
        ids.append(call.get("id"))
    return ids


def check_messages(messages: Any) -> None:
    """A chat row's messages, or InputError with the API's reason."""
    if not isinstance(messages, list) or not messages:
        raise InputError("messages must be a non-empty array")
    calls: list[str | None] | None = None  # the tool calls a tool message may answer (None: no tool message now)
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise InputError(f"{where} must be an object")
        role = m.get("role")
        if role not in ROLES:
            raise InputError(f"{where}.role must be one of system, user, assistant, tool")
        ids = _check_calls(where, m.get("tool_calls")) if role == "assistant" else []
        content_optional = role == "assistant" and bool(ids)
        if not isinstance(m.get("content"), str) and not (content_optional and m.get("content") is None):
            raise InputError(f"{where}.content must be a string")
        if role == "tool":
            if calls is None:
                raise InputError(f"{where}: a tool message must follow an assistant message with tool_calls")
            answered = m.get("tool_call_id")
            if answered is not None and not isinstance(answered, str):
                raise InputError(f"{where}.tool_call_id must be a string")
            if answered is not None and any(c is not None for c in calls) and answered not in calls:
                raise InputError(f"{where}.tool_call_id matches no tool call of the assistant message before it")
        else:
            calls = ids or None
    if not any(m["role"] == "assistant" for m in messages):
        raise InputError("messages must include an assistant message")


def check_tools(tools: Any) -> None:
    """A row's `tools`: absent, null, or an array of functions."""
    if tools is None:
        return
    if not isinstance(tools, list):
        raise InputError("tools must be an array")
    for k, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise InputError(f"tools[{k}].function.name must be a non-empty string")
        if tool.get("type", "function") != "function":  # type: ignore[union-attr]
            raise InputError(f'tools[{k}].type must be "function"')


def to_template(m: Message) -> Message:
    """One checked message as chat templates take it (transformers' convention): role and content (a string: ""
    for a call without text), an assistant's calls with their arguments as an object, a tool message's id/name."""
    out: Message = {"role": m["role"], "content": m.get("content") or ""}
    if m["role"] == "assistant" and m.get("tool_calls"):
        out["tool_calls"] = [
            {
                **({"id": c["id"]} if isinstance(c.get("id"), str) else {}),
                "type": "function",
                "function": {"name": c["function"]["name"], "arguments": _arguments(c["function"]["arguments"])},
            }
            for c in m["tool_calls"]
        ]
    if m["role"] == "tool":
        out.update({k: m[k] for k in ("tool_call_id", "name") if isinstance(m.get(k), str)})
    return out


def call_names(m: Message) -> list[str]:
    """The function names of a (template-form) assistant message's tool calls."""
    return [c["function"]["name"] for c in m.get("tool_calls") or []]
