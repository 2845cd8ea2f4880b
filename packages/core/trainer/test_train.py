import json
import os
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

import train


class TrainerHelpers(unittest.TestCase):
    def test_hyperparameters_merge_defaults_and_steps(self):
        hp = train.hyperparameters('{"learning_rate": 0.001, "steps": 7, "unknown": 1}')
        self.assertEqual(hp["learning_rate"], 0.001)
        self.assertEqual(hp["max_steps"], 7)
        self.assertNotIn("unknown", hp)
        with self.assertRaises(ValueError):
            train.hyperparameters("[1,2]")

    def test_detect_format(self):
        self.assertEqual(train.detect_format({"messages": []}), "chat")
        self.assertEqual(train.detect_format({"prompt": "a", "completion": "b"}), "prompt_completion")
        with self.assertRaises(ValueError):
            train.detect_format({"text": "x"})

    def test_read_rows(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write('{"prompt":"a","completion":"b"}\n\n{"prompt":"c","completion":"d"}\n')
        try:
            self.assertEqual(len(train.read_rows(f.name)), 2)
        finally:
            os.unlink(f.name)

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
