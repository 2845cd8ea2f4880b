"""train.py trained for real on the CPU with the pinned libraries and a tiny Llama built here (issue 15).
Needs the trainer venv (scripts/trainer-venv.sh); trainer.test.ts runs this file with its python."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

import tiny_model
import train

HERE = os.path.dirname(os.path.abspath(__file__))
HP = {"steps": 24, "batch_size": 4, "gradient_accumulation_steps": 1, "learning_rate": 0.005, "max_seq_length": 128, "lora_r": 32, "lora_alpha": 64}
MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
WORK = tempfile.mkdtemp(prefix="trainpod-trainer-test-")


def setUpModule():
    global MODEL
    MODEL = tiny_model.build(os.path.join(WORK, "tiny-llama"))


def tearDownModule():
    import shutil

    shutil.rmtree(WORK, ignore_errors=True)


class Events:
    """A local HTTP server that records (Authorization, body) of each POST."""

    def __init__(self):
        seen = self.seen = []

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen.append((self.headers.get("Authorization"), json.loads(body)))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/v1/runs/events" % self.server.server_port


def write_rows(name, rows):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def run_trainer(dataset, out, hp, events_url=None):
    args = [sys.executable, os.path.join(HERE, "train.py"), "--dataset", dataset, "--output-dir", out, "--base-model", MODEL, "--hyperparameters", json.dumps(hp)]
    if events_url:
        args += ["--events-url", events_url]
    env = dict(os.environ, TRAINPOD_RUN_TOKEN="run-token-1", OMP_NUM_THREADS="2", HF_HUB_OFFLINE="1")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


def tokenizer():
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(MODEL)
    return tok, train.prepare_tokenizer(tok)


class Labels(unittest.TestCase):
    def test_pad_is_not_eos_and_labels_keep_eos_and_mask_the_prompt(self):
        """finding 1: the model's pad token is EOS; labels must end with an unmasked EOS after the collator."""
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        tok, added = tokenizer()
        self.assertFalse(added)
        self.assertNotEqual(tok.pad_token_id, tok.eos_token_id)
        self.assertEqual(tok.padding_side, "right")
        for fmt in ("chat", "prompt_completion"):
            rows = tiny_model.rows(fmt, 2)
            rows[1]["id"] = "a much longer row" if fmt == "chat" else rows[1]["id"]
            examples = [train.build_example(tok, r, 128, True) for r in rows]
            batch = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)(examples)
            for i, ex in enumerate(examples):
                labels = batch["labels"][i].tolist()
                kept = [t for t in labels if t != -100]
                self.assertEqual(kept[-1], tok.eos_token_id, fmt)
                self.assertEqual(tok.decode(kept, skip_special_tokens=True).strip(), train.to_messages(rows[i])[-1]["content"], fmt)
                # the prompt (system, user, the assistant header) is masked
                first = labels.index(kept[0])
                self.assertIn("<|assistant|>", tok.decode(ex["input_ids"][:first]))
                self.assertTrue(all(t == -100 for t in labels[:first]))

    def test_completion_only_loss_off_trains_on_everything(self):
        tok, _ = tokenizer()
        ex = train.build_example(tok, tiny_model.rows("chat", 1)[0], 128, False)
        self.assertEqual(ex["labels"], ex["input_ids"])
        self.assertEqual(len(train.build_example(tok, tiny_model.rows("chat", 1)[0], 16, True)["input_ids"]), 16)


class RealTraining(unittest.TestCase):
    def train_and_check(self, fmt, extra_hp):
        events = Events()
        out = os.path.join(WORK, "out-" + fmt)
        r = run_trainer(write_rows(fmt + ".jsonl", tiny_model.rows(fmt)), out, dict(HP, **extra_hp), events.url)
        events.server.shutdown()
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertNotIn("\r", r.stdout + r.stderr)  # no tqdm carriage returns in the pod's log
        self.assertNotIn("it/s]", r.stdout + r.stderr)  # nor progress bars
        self.assertEqual(len([l for l in r.stdout.splitlines() if l.startswith("step ")]), 24)
        progress = [b for auth, b in events.seen if b["type"] == "progress"]
        self.assertTrue(all(auth == "Bearer run-token-1" for auth, _ in events.seen))
        self.assertEqual([p["step"] for p in progress], list(range(1, 25)))
        self.assertTrue(all(p["totalSteps"] == 24 for p in progress))
        losses = [p["loss"] for p in progress]
        print("%s loss curve: %s" % (fmt, " ".join("%.3f" % l for l in losses)), file=sys.stderr)
        self.assertLess(sum(losses[-4:]) / 4, 0.93 * sum(losses[:4]) / 4, losses)  # 5.5 -> ~4.9 measured
        # the adapter loads back with peft and changes the model's output
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        self.assertTrue(os.path.isfile(os.path.join(out, "adapter_model.safetensors")))
        base = AutoModelForCausalLM.from_pretrained(MODEL)
        tok, _ = tokenizer()
        ids = torch.tensor([train.build_example(tok, tiny_model.rows(fmt, 1)[0], 128, False)["input_ids"]])
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, out)
        self.assertFalse(torch.allclose(before, tuned(ids).logits))
        return out, ids, tuned

    def test_chat_trains_and_merges(self):
        import torch
        from transformers import AutoModelForCausalLM

        out, ids, tuned = self.train_and_check("chat", {"merge_adapter": True})
        merged = AutoModelForCausalLM.from_pretrained(os.path.join(out, "merged"))
        self.assertEqual(merged.dtype, torch.float16)
        want = tuned.merge_and_unload()(ids).logits
        self.assertTrue(torch.allclose(merged.float()(ids).logits, want, atol=0.05))

    def test_prompt_completion_trains(self):
        out, _, _ = self.train_and_check("prompt_completion", {"target_modules": MODULES})
        self.assertFalse(os.path.exists(os.path.join(out, "merged")))
        with open(os.path.join(out, "adapter_config.json")) as f:
            self.assertEqual(sorted(json.load(f)["target_modules"]), sorted(MODULES))


class FailsFast(unittest.TestCase):
    def test_bad_row_and_bad_hyperparameter_exit_2_with_a_clear_message(self):
        rows = tiny_model.rows("prompt_completion", 3) + [{"prompt": "p", "completion": 3}]
        r = run_trainer(write_rows("bad.jsonl", rows), os.path.join(WORK, "bad"), HP)
        self.assertEqual((r.returncode, r.stderr.strip()), (2, "error: dataset line 4: completion must be a string"))
        r = run_trainer(write_rows("good.jsonl", rows[:3]), os.path.join(WORK, "bad"), dict(HP, epochs="3"))
        self.assertEqual((r.returncode, r.stderr.strip()), (2, 'error: hyperparameter epochs must be an integer, got "3"'))
        r = run_trainer(write_rows("mixed.jsonl", rows[:1] + tiny_model.rows("chat", 1)), os.path.join(WORK, "bad"), HP)
        self.assertEqual(r.returncode, 2)
        self.assertIn("mixed formats", r.stderr)


if __name__ == "__main__":
    unittest.main()
