"""Preference rows for DPO (issue 26 item 5), trl's preference format, checked, and the training method's formats
(standard library only).

`{"prompt", "chosen", "rejected"}` as strings (format "preference"), or in chat form ("preference_chat"): `prompt` a
non-empty list of messages (roles system, user, assistant; string contents) ending with a user message, `chosen` and
`rejected` each a non-empty list of assistant messages. The API checks the same rules with the same reasons
(packages/core/src/datasets/preference-rows.ts); tests/fixtures/datasets* holds the files both sides must decide
alike. Other keys are ignored.
"""

from __future__ import annotations

from typing import Any

from trainpod_agent.ml.seam import InputError

PREFERENCE_FORMATS = ("preference", "preference_chat")
# the dataset formats each training method trains on (the API's METHOD_DATASET_FORMATS, preflight.ts)
METHOD_FORMATS = {"sft": ("chat", "prompt_completion"), "dpo": PREFERENCE_FORMATS}
PROMPT_ROLES = ("system", "user", "assistant")
NOT_A_PROMPT = "prompt must be a string or a non-empty array of messages"
Message = dict[str, str]


def _check_prompt(prompt: list[Any]) -> None:
    if not prompt:
        raise InputError(NOT_A_PROMPT)
    for i, m in enumerate(prompt):
        if not isinstance(m, dict):
            raise InputError(f"prompt[{i}] must be an object")
        if m.get("role") not in PROMPT_ROLES:
            raise InputError(f"prompt[{i}].role must be one of system, user, assistant")
        if not isinstance(m.get("content"), str):
            raise InputError(f"prompt[{i}].content must be a string")
    if prompt[-1]["role"] != "user":
        raise InputError("prompt must end with a user message")


def _check_answer(key: str, answer: Any) -> None:
    if not isinstance(answer, list) or not answer:
        raise InputError(f"{key} must be a non-empty array of assistant messages")
    for i, m in enumerate(answer):
        if not isinstance(m, dict):
            raise InputError(f"{key}[{i}] must be an object")
        if m.get("role") != "assistant":
            raise InputError(f"{key}[{i}].role must be assistant")
        if not isinstance(m.get("content"), str):
            raise InputError(f"{key}[{i}].content must be a string")


def check_preference(row: dict[str, Any]) -> str:
    """The preference row's format ("preference" or "preference_chat") or InputError with the API's reason."""
    prompt = row.get("prompt")
    if isinstance(prompt, str):
        for key in ("chosen", "rejected"):
            if not isinstance(row.get(key), str):
                raise InputError(f"{key} must be a string")
        return "preference"
    if not isinstance(prompt, list):
        raise InputError(NOT_A_PROMPT)
    _check_prompt(prompt)
    _check_answer("chosen", row.get("chosen"))
    _check_answer("rejected", row.get("rejected"))
    return "preference_chat"


def check_method(method: str, fmt: str) -> None:
    """InputError when the training method does not train on the dataset's format (the API's pre-flight refuses the
    same pair: DATASET_METHOD_MISMATCH)."""
    formats = METHOD_FORMATS.get(method, ())
    if fmt not in formats:
        raise InputError(
            f"method {method} trains on datasets of format {' or '.join(formats)}; this dataset is {fmt}"
            + (" (set hyperparameter method to dpo)" if fmt in PREFERENCE_FORMATS else "")
        )


def _messages(messages: list[dict[str, Any]]) -> list[Message]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def to_conversation(row: dict[str, Any]) -> dict[str, list[Message]]:
    """The row as trl's conversational preference example: {"prompt", "chosen", "rejected"}, lists of {role,
    content} (extra keys dropped: one schema for the dataset's Arrow table). A string row becomes a user message and
    assistant answers, as prompt/completion rows are for SFT, so the model's chat template renders both forms."""
    if isinstance(row["prompt"], str):
        return {
            "prompt": [{"role": "user", "content": row["prompt"]}],
            "chosen": [{"role": "assistant", "content": row["chosen"]}],
            "rejected": [{"role": "assistant", "content": row["rejected"]}],
        }
    return {key: _messages(row[key]) for key in ("prompt", "chosen", "rejected")}
