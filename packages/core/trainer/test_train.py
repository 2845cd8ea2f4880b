import json
import os
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

import train


HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


class TrainerHelpers(unittest.TestCase):
    def test_hyperparameters_merge_defaults_and_steps(self):
        hp = train.hyperparameters('{"learning_rate": 0.001, "steps": 7}')
        self.assertEqual(hp["learning_rate"], 0.001)
        self.assertEqual(hp["steps"], 7)
        self.assertEqual((hp["epochs"], hp["lora_r"], hp["target_modules"], hp["completion_only_loss"], hp["merge_adapter"]), (1, 16, "all-linear", True, False))
        with self.assertRaisesRegex(train.InputError, "must be a JSON object"):
            train.hyperparameters("[1,2]")

    def test_hyperparameters_shared_fixtures(self):
        """issue 15, finding 4: the API's rules (hyperparameters.test.ts runs the same file)."""
        with open(os.path.join(FIXTURES, "hyperparameters.json")) as f:
            cases = json.load(f)
        for hp in cases["ok"]:
            train.hyperparameters(json.dumps(hp))
        for hp in cases["bad"]:
            with self.assertRaises(train.InputError, msg=json.dumps(hp)):
                train.hyperparameters(json.dumps(hp))
        with self.assertRaisesRegex(train.InputError, r"hyperparameter epochs must be an integer, got \"3\""):
            train.hyperparameters('{"epochs": "3"}')
        with self.assertRaisesRegex(train.InputError, "unknown hyperparameter.*lr"):
            train.hyperparameters('{"lr": 0.1}')

    def test_datasets_shared_fixtures(self):
        """issue 15, finding 2: the rows the API's validator accepts (jsonl-validator.test.ts runs the same files)."""
        with open(os.path.join(FIXTURES, "datasets.json")) as f:
            expected = {k: v for k, v in json.load(f).items() if not k.startswith("/")}
        self.assertGreater(len(expected), 5)
        for name, want in expected.items():
            path = os.path.join(FIXTURES, "datasets", name)
            if "format" in want:
                rows, fmt = train.read_rows(path)
                self.assertEqual((len(rows), fmt), (want["rows"], want["format"]), name)
            else:
                with self.assertRaises(train.InputError, msg=name) as caught:
                    train.read_rows(path)
                self.assertEqual(str(caught.exception), "dataset line %d: %s" % (want["line"], want["reason"]), name)

    def test_to_messages_keeps_role_and_content_only(self):
        row = {"id": 1, "messages": [{"role": "user", "content": "a", "name": "x"}, {"role": "assistant", "content": "b", "tool_calls": []}]}
        self.assertEqual(train.to_messages(row), [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
        self.assertEqual(train.to_messages({"prompt": "p", "completion": "c", "id": 2}), [{"role": "user", "content": "p"}, {"role": "assistant", "content": "c"}])

    def test_training_arguments_save_memory(self):
        """issue 15, finding 3: checkpointing without reentrancy, bf16 on a GPU that has it."""
        hp = train.hyperparameters('{"steps": 5}')
        gpu = train.training_arguments(hp, "/out", bf16=True, cuda=True)
        self.assertEqual((gpu["activation_checkpointing"], gpu["activation_checkpointing_kwargs"]), (True, {"use_reentrant": False}))
        self.assertEqual((gpu["bf16"], gpu["use_cpu"], gpu["max_steps"], gpu["max_length"]), (True, False, 5, 1024))
        cpu = train.training_arguments(train.hyperparameters("{}"), "/out", bf16=False, cuda=False)
        self.assertEqual((cpu["bf16"], cpu["use_cpu"], cpu["max_steps"], cpu["disable_tqdm"]), (False, True, -1, True))

    def test_event_sender_never_blocks_and_keeps_the_newest(self):
        sender = train.EventSender("http://127.0.0.1:1/none", "tok", size=2)
        for step in range(100):
            sender.send({"type": "progress", "step": step})
        self.assertLessEqual(sender.queue.qsize(), 2)
        sender.close(timeout=5)

    def test_progress_payload(self):
        self.assertEqual(train.progress_payload(3, 10, 1.23456789), {"type": "progress", "step": 3, "totalSteps": 10, "loss": 1.234568})
        self.assertEqual(train.progress_payload(1, -1, None), {"type": "progress", "step": 1})

    def test_post_event_sends_bearer_json_and_survives_errors(self):
        seen = []

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen.append((self.headers["Authorization"], json.loads(body)))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *a):
                pass

        server = HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/e" % server.server_port
        self.assertTrue(train.post_event(url, "tok", {"type": "progress", "step": 1}))
        server.shutdown()
        self.assertEqual(seen, [("Bearer tok", {"type": "progress", "step": 1})])
        self.assertFalse(train.post_event("http://127.0.0.1:1/none", "tok", {"type": "progress", "step": 1}, timeout=1))


if __name__ == "__main__":
    unittest.main()
