#!/usr/bin/env python3
"""trainpod trainer: LoRA supervised fine-tuning of a causal LM on a JSONL dataset.

Contract (the simulator's stand-in takes the same arguments):
  python train.py --dataset PATH --output-dir DIR [--base-model M] [--hyperparameters JSON] [--events-url URL]
env TRAINPOD_RUN_TOKEN: bearer token for POSTing {"type":"progress","step","totalSteps","loss"} to --events-url.
Exit codes: 0 trained; 2 bad hyperparameters or dataset (found before any model is loaded); other: training failed.

The rules for hyperparameters and rows are the API's (packages/core/src/deployment/hyperparameters.ts and
src/datasets/jsonl-format.ts): both sides run the shared fixtures in trainer/fixtures/. The ML libraries are
imported inside train(), so the helpers below import and test without them.
"""
import argparse
import json
import math
import os
import queue
import sys
import threading
import urllib.request

# name: (kind, minimum, maximum, default); "int" is a JSON integer, "number" any finite JSON number
HYPERPARAMETERS = {
    "learning_rate": ("number", 1e-8, 1.0, 2e-4),
    "epochs": ("int", 1, 100, 1),
    "steps": ("int", 1, 1_000_000, None),  # when given, overrides epochs
    "lora_r": ("int", 1, 1024, 16),
    "lora_alpha": ("int", 1, 4096, 32),
    "lora_dropout": ("number", 0.0, 0.9, 0.05),
    "max_seq_length": ("int", 16, 131072, 1024),
    "batch_size": ("int", 1, 1024, 4),
    "gradient_accumulation_steps": ("int", 1, 1024, 4),
    "completion_only_loss": ("bool", None, None, True),
    "target_modules": ("modules", None, None, "all-linear"),
    "merge_adapter": ("bool", None, None, False),
    # the simulator's trainer stand-in reads these; accepted everywhere, ignored here
    "sim_step_ms": ("int", 0, 3_600_000, None),
    "sim_fail_at_step": ("int", 0, 1_000_000, None),
    "sim_exit_code": ("int", 0, 255, None),
    "sim_error": ("string", 0, 1000, None),
    "sim_extra_artifact_bytes": ("int", 0, 1_073_741_824, None),
}
MODULE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
ROLES = ("system", "user", "assistant")
# for a base model without a chat template
DEFAULT_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


class InputError(ValueError):
    """A bad hyperparameter or dataset row: reported before anything is loaded, exit code 2."""


def parse_args(argv):
    p = argparse.ArgumentParser(description="trainpod LoRA SFT trainer")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--base-model", default="TinyLlama/TinyLlama-1.1B-Chat-v1.0")
    p.add_argument("--hyperparameters", default="{}")
    p.add_argument("--events-url", default=None)
    return p.parse_args(argv)


def _check_value(name, value):
    kind, lo, hi, _ = HYPERPARAMETERS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError("hyperparameter %s must be true or false, got %s" % (name, json.dumps(value)))
        return value
    if kind == "modules":
        if value == "all-linear":
            return value
        ok = isinstance(value, list) and 1 <= len(value) <= 64
        ok = ok and all(isinstance(m, str) and 1 <= len(m) <= 100 and set(m) <= MODULE_NAME_CHARS for m in value)
        if not ok:
            raise InputError('hyperparameter target_modules must be "all-linear" or a list of 1 to 64 module names')
        return value
    if kind == "string":
        if not isinstance(value, str) or len(value) > hi:
            raise InputError("hyperparameter %s must be a string of at most %d characters" % (name, hi))
        return value
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "int" and not (is_number and float(value).is_integer()):
        raise InputError("hyperparameter %s must be an integer, got %s" % (name, json.dumps(value)))
    if not is_number:
        raise InputError("hyperparameter %s must be a number, got %s" % (name, json.dumps(value)))
    if value < lo or value > hi:
        raise InputError("hyperparameter %s must be between %s and %s, got %s" % (name, lo, hi, value))
    return int(value) if kind == "int" else value


def hyperparameters(text):
    """The JSON object of hyperparameters, checked (unknown keys refused) and merged with the defaults."""
    try:
        given = json.loads(text or "{}")
    except ValueError as err:
        raise InputError("hyperparameters are not valid JSON: %s" % err)
    if not isinstance(given, dict):
        raise InputError("hyperparameters must be a JSON object")
    unknown = sorted(k for k in given if k not in HYPERPARAMETERS)
    if unknown:
        raise InputError("unknown hyperparameter(s): %s (known: %s)" % (", ".join(unknown), ", ".join(HYPERPARAMETERS)))
    merged = {name: spec[3] for name, spec in HYPERPARAMETERS.items()}
    merged.update({name: _check_value(name, value) for name, value in given.items()})
    return merged


def check_row(row):
    """The row's format ("chat" or "prompt_completion") or InputError: the API's checkLine rule. Extra keys ignored."""
    if not isinstance(row, dict):
        raise InputError("not a JSON object")
    if "messages" in row:
        messages = row["messages"]
        if not isinstance(messages, list) or not messages:
            raise InputError("messages must be a non-empty array")
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                raise InputError("messages[%d] must be an object" % i)
            if m.get("role") not in ROLES:
                raise InputError("messages[%d].role must be one of system, user, assistant" % i)
            if not isinstance(m.get("content"), str):
                raise InputError("messages[%d].content must be a string" % i)
        if not any(m["role"] == "assistant" for m in messages):
            raise InputError("messages must include an assistant message")
        return "chat"
    if "prompt" in row or "completion" in row:
        if not isinstance(row.get("prompt"), str):
            raise InputError("prompt must be a string")
        if not isinstance(row.get("completion"), str):
            raise InputError("completion must be a string")
        return "prompt_completion"
    raise InputError('unsupported shape: expected {"messages":[...]} or {"prompt":...,"completion":...}')


def read_rows(path):
    """(rows, format): every non-empty line one row, all in one format; InputError names the first bad line."""
    rows, fmt = [], None
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise InputError("dataset line %d: not valid JSON" % number)
            try:
                this = check_row(row)
            except InputError as err:
                raise InputError("dataset line %d: %s" % (number, err))
            if fmt is None:
                fmt = this
            elif this != fmt:
                raise InputError("dataset line %d: format %s differs from the dataset's %s (mixed formats)" % (number, this, fmt))
            rows.append(row)
    if not rows:
        raise InputError("dataset has no rows")
    return rows, fmt


def to_messages(row):
    """The row as chat messages with only role and content (prompt/completion: one user/assistant pair)."""
    if "messages" in row:
        return [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    return [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["completion"]}]


def format_row(tokenizer, row):
    """(text, spans): the row rendered by the chat template, ending with EOS, and the character spans of the
    assistant turns (what completion-only loss trains on); spans None when the template's renders of the
    conversation's beginnings are not prefixes of the whole (then the whole text is trained on)."""
    messages = to_messages(row)
    render = lambda ms, gen=False: tokenizer.apply_chat_template(ms, tokenize=False, add_generation_prompt=gen)
    text = render(messages)
    if not text.rstrip().endswith(tokenizer.eos_token):
        text += tokenizer.eos_token
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = render(messages[:i], gen=True) if i > 0 else ""
        through = (text if i == len(messages) - 1 else render(messages[: i + 1])).rstrip()
        if not text.startswith(before) or not text.startswith(through):
            return text, None
        spans.append((len(before), len(through)))
    return text, spans


def build_example(tokenizer, row, max_length, completion_only):
    """{"input_ids", "labels"} for one row: prompt tokens -100 when completion_only, EOS kept, cut to max_length."""
    text, spans = format_row(tokenizer, row)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    if completion_only and spans is not None:
        labels = [t if any(s <= a < e for s, e in spans) else -100 for t, (a, _b) in zip(ids, enc["offset_mapping"])]
    else:
        labels = list(ids)
    return {"input_ids": ids[:max_length], "labels": labels[:max_length]}


def prepare_tokenizer(tokenizer):
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


def progress_payload(step, total, loss):
    body = {"type": "progress", "step": int(step)}
    if total and total > 0:
        body["totalSteps"] = int(total)
    if loss is not None:
        body["loss"] = round(float(loss), 6)
    return body


def post_event(url, token, body, timeout=10):
    if not url:
        return False
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        urllib.request.urlopen(req, timeout=timeout).read()
        return True
    except Exception as err:  # reporting must never kill training
        print("warning: could not post progress: %s" % err, file=sys.stderr, flush=True)
        return False


class EventSender:
    """Posts events from a background thread: a step never waits for the network. The queue is bounded; when
    full, the oldest event is dropped (a later progress event supersedes it)."""

    def __init__(self, url, token, size=64):
        self.url, self.token = url, token
        self.queue = queue.Queue(maxsize=size)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def send(self, body):
        while True:
            try:
                return self.queue.put_nowait(body)
            except queue.Full:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    pass

    def _run(self):
        while True:
            body = self.queue.get()
            if body is None:
                return
            post_event(self.url, self.token, body)

    def close(self, timeout=30):
        self.send(None)
        self.thread.join(timeout)


def training_arguments(hp, output_dir, bf16, cuda):
    """SFTConfig's arguments. Memory (issue 15, finding 3): activation (gradient) checkpointing, non-reentrant
    (what PEFT needs: the frozen inputs get no grad), bf16 where the GPU has it."""
    return dict(
        output_dir=output_dir,
        num_train_epochs=hp["epochs"],
        max_steps=hp["steps"] or -1,
        learning_rate=hp["learning_rate"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation_steps"],
        max_length=hp["max_seq_length"],
        activation_checkpointing=True,
        activation_checkpointing_kwargs={"use_reentrant": False},
        dataset_kwargs={"skip_prepare_dataset": True},  # rows are tokenized by build_example, labels included
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        bf16=bf16,
        use_cpu=not cuda,
    )


def library_versions():
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("torch", "transformers", "peft", "trl", "datasets", "accelerate"):
        try:
            out.append("%s %s" % (name, version(name)))
        except PackageNotFoundError:
            out.append("%s missing" % name)
    return ", ".join(out)


def train(args, hp, rows, fmt):
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars in the pod's log
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback
    from transformers.utils import logging as hf_logging
    from trl import SFTConfig, SFTTrainer

    hf_logging.disable_progress_bar()

    print("libraries: %s" % library_versions(), flush=True)
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    added = prepare_tokenizer(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(args.base_model, dtype=torch.bfloat16 if bf16 else torch.float32)
    if added:
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id

    examples = [build_example(tokenizer, r, hp["max_seq_length"], hp["completion_only_loss"]) for r in rows]
    kept = [e for e in examples if any(label != -100 for label in e["labels"])]
    if len(kept) < len(examples):
        print("warning: %d row(s) have nothing to train on within max_seq_length %d: skipped" % (len(examples) - len(kept), hp["max_seq_length"]), flush=True)
    if not kept:
        raise InputError("no row has a completion within max_seq_length %d" % hp["max_seq_length"])

    sender = EventSender(args.events_url, os.environ.get("TRAINPOD_RUN_TOKEN"))

    class Progress(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_kw):
            loss = (logs or {}).get("loss")
            if loss is None:
                return
            print("step %d/%d loss %.4f" % (state.global_step, state.max_steps, loss), flush=True)
            sender.send(progress_payload(state.global_step, state.max_steps, loss))

    config = SFTConfig(**training_arguments(hp, args.output_dir, bf16=bf16, cuda=torch.cuda.is_available()))
    lora = LoraConfig(
        r=hp["lora_r"], lora_alpha=hp["lora_alpha"], lora_dropout=hp["lora_dropout"],
        target_modules=hp["target_modules"], task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=Dataset.from_list(kept), processing_class=tokenizer,
        peft_config=lora, callbacks=[Progress()],
    )
    trainer.remove_callback(PrinterCallback)  # Progress prints one line a step
    try:
        trainer.train()
    finally:
        sender.close()
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    print("adapter saved to %s" % args.output_dir, flush=True)
    if hp["merge_adapter"]:
        merged = trainer.model.merge_and_unload().to(torch.bfloat16 if bf16 else torch.float16)
        merged.save_pretrained(os.path.join(args.output_dir, "merged"))
        tokenizer.save_pretrained(os.path.join(args.output_dir, "merged"))
        print("merged weights saved to %s" % os.path.join(args.output_dir, "merged"), flush=True)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    try:
        hp = hyperparameters(args.hyperparameters)
        rows, fmt = read_rows(args.dataset)
    except (InputError, OSError, UnicodeDecodeError) as err:
        print("error: %s" % err, file=sys.stderr, flush=True)
        return 2
    print("dataset: %d rows (%s); base model %s; %s" % (len(rows), fmt, args.base_model, json.dumps(hp)), flush=True)
    try:
        train(args, hp, rows, fmt)
    except InputError as err:
        print("error: %s" % err, file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
