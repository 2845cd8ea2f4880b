"""A tiny Llama and its tokenizer, built locally for the real tests (no model hub, a few seconds).

`python tiny_model.py OUT_DIR` builds it into OUT_DIR and prints the directory (test/e2e/real-trainer.test.ts).
"""

from __future__ import annotations

import os
from typing import Any

# the tokenizer of a TinyLlama-like chat model: pad_token is </s>, the same as EOS (the trap of issue 15, finding 1)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
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


def build(directory: str) -> str:
    """Writes a tiny LlamaForCausalLM and its tokenizer to directory; returns the directory."""
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
        hidden_size=64,
        intermediate_size=128,
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
