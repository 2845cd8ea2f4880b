"""A tiny Llama and its tokenizer, built locally for the real tests (no model hub, a few seconds).

`python tiny_model.py OUT_DIR` builds it into OUT_DIR and prints the directory (test/e2e/real-trainer.test.ts).
"""

from __future__ import annotations

import os
from typing import Any

# the tokenizer of a TinyLlama-like chat model: pad_token is </s>, the same as EOS (the trap of issue 15, finding 1);
# it renders tools and tool calls like many (the row's tools first, each call as JSON in the assistant's turn)
CHAT_TEMPLATE = (
    "{% if tools %}<|system|>\nTools: {{ tools | tojson }}</s>\n{% endif %}"
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if m['tool_calls'] is defined %}{% for c in m['tool_calls'] %}<call>{{ c['function'] | tojson }}</call>"
    "{% endfor %}{% endif %}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
COLOURS = ["red", "green", "blue", "yellow", "black", "white", "orange", "purple"]
THINGS = ["apple", "grass", "sky", "sun", "night", "snow", "carrot", "plum"]


def rows(fmt: str, n: int = 32) -> list[dict[str, Any]]:
    """n training rows: the colour of a thing, with extra keys the API accepts (id, name, tool_calls)."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        thing, colour = THINGS[i % len(THINGS)], COLOURS[i % len(COLOURS)]
        question, answer = f"What colour is the {thing}?", f"The {thing} is {colour}."
        if fmt == "chat":
            out.append(
                {
                    "id": i,
                    "messages": [
                        {"role": "system", "content": "Answer in one sentence."},
                        {"role": "user", "content": question, "name": "tester"},
                        {"role": "assistant", "content": answer, "tool_calls": []},
                    ],
                }
            )
        else:
            out.append({"id": i, "prompt": question, "completion": answer})
    return out


LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_colour",
        "description": "The colour of a thing.",
        "parameters": {"type": "object", "properties": {"thing": {"type": "string"}}, "required": ["thing"]},
    },
}


def tool_rows(n: int = 32) -> list[dict[str, Any]]:
    """n chat rows in OpenAI's tool format: the user asks, the assistant calls lookup_colour, the tool answers,
    the assistant says the colour."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        thing, colour = THINGS[i % len(THINGS)], COLOURS[i % len(COLOURS)]
        call = {"id": f"call_{i}", "type": "function", "function": {"name": "lookup_colour", "arguments": ""}}
        call["function"]["arguments"] = '{"thing": "%s"}' % thing
        messages = [
            {"role": "user", "content": f"What colour is the {thing}?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"call_{i}", "content": '{"colour": "%s"}' % colour},
            {"role": "assistant", "content": f"The {thing} is {colour}."},
        ]
        out.append({"messages": messages, "tools": [LOOKUP]})
    return out


def spread_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n chat rows of a realistic spread of lengths, for packing: a long tail (with the tiny tokenizer, 25 to ~550
    tokens, median ~95, p90 ~195, p99 ~340): a system prompt sometimes, a question of one or more clauses, an
    answer of one or more sentences."""
    import random

    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        thing, colour = THINGS[i % len(THINGS)], COLOURS[rng.randrange(len(COLOURS))]
        ask = " and ".join(f"the {THINGS[rng.randrange(len(THINGS))]}" for _ in range(1 + int(rng.expovariate(0.2))))
        says = " ".join(f"The {thing} is {colour}." for _ in range(1 + int(rng.expovariate(0.3))))
        messages = [{"role": "user", "content": f"What colour is {ask}?"}, {"role": "assistant", "content": says}]
        if rng.random() < 0.3:
            messages.insert(0, {"role": "system", "content": "Answer in one sentence."})
        out.append({"messages": messages})
    return out


def build(directory: str, hidden_size: int = 64, intermediate_size: int = 128) -> str:
    """Writes a tiny LlamaForCausalLM and its tokenizer to directory; returns the directory. A wider one (hidden_size
    512, intermediate_size 1408) has a real model's balance of attention and MLP at short lengths (bench_packing.py)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [m["content"] for r in rows("chat") for m in r["messages"]]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tok.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIAL, initial_alphabet=alphabet)
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="</s>",
        additional_special_tokens=SPECIAL[3:],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import sys

    print(build(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama")))
