#!/usr/bin/env python3
"""trainpod trainer: LoRA supervised fine-tuning of a causal LM on a JSONL dataset.

Contract (the simulator's stand-in takes the same arguments):
  python train.py --dataset PATH --output-dir DIR [--base-model M] [--hyperparameters JSON] [--events-url URL]
env TRAINPOD_RUN_TOKEN: bearer token for POSTing {"type":"progress","step","totalSteps","loss"} to --events-url.

The ML libraries are imported inside main(), so the pure helpers below import and test without them.
"""
import argparse
import json
import os
import sys
import urllib.request

DEFAULTS = {
    "learning_rate": 2e-4,
    "epochs": 1,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "max_seq_length": 1024,
    "batch_size": 4,
    "gradient_accumulation_steps": 4,
    "max_steps": -1,
}


def parse_args(argv):
    p = argparse.ArgumentParser(description="trainpod LoRA SFT trainer")
    p.add_argument("--dataset", required=True)
    p.add_argument("--output-dir", required=True)
    p.add_argument("--base-model", default="TinyLlama/TinyLlama-1.1B-Chat-v1.0")
    p.add_argument("--hyperparameters", default="{}")
    p.add_argument("--events-url", default=None)
    return p.parse_args(argv)


def hyperparameters(text):
    given = json.loads(text or "{}")
    if not isinstance(given, dict):
        raise ValueError("hyperparameters must be a JSON object")
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in given.items() if k in DEFAULTS})
    if "steps" in given:
        merged["max_steps"] = int(given["steps"])
    return merged


def detect_format(row):
    if isinstance(row.get("messages"), list):
        return "chat"
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        return "prompt_completion"
    raise ValueError("row is neither chat (messages) nor prompt/completion")


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                row = json.loads(line)
                detect_format(row)
                rows.append(row)
    if not rows:
        raise ValueError("dataset is empty")
    return rows


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
        print("warning: could not post progress: %s" % err, file=sys.stderr)
        return False


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    hp = hyperparameters(args.hyperparameters)
    rows = read_rows(args.dataset)
    fmt = detect_format(rows[0])
    print("dataset: %d rows (%s); base model %s; %s" % (len(rows), fmt, args.base_model, json.dumps(hp)), flush=True)

    import torch  # noqa: F401  (heavy imports only when training)
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    token = os.environ.get("TRAINPOD_RUN_TOKEN")

    class Progress(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_kw):
            loss = (logs or {}).get("loss")
            post_event(args.events_url, token, progress_payload(state.global_step, state.max_steps, loss))

    tokenizer = AutoTokenizer.from_pretrained(args.base_model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = SFTConfig(
        output_dir=args.output_dir,
        num_train_epochs=hp["epochs"],
        max_steps=hp["max_steps"],
        learning_rate=hp["learning_rate"],
        per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["gradient_accumulation_steps"],
        max_seq_length=hp["max_seq_length"],
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
    )
    lora = LoraConfig(r=hp["lora_r"], lora_alpha=hp["lora_alpha"], lora_dropout=hp["lora_dropout"], task_type="CAUSAL_LM")
    trainer = SFTTrainer(
        model=args.base_model,
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[Progress()],
    )
    trainer.train()
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    print("saved to %s" % args.output_dir, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
