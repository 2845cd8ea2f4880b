import { readFileSync } from "node:fs";
import path from "node:path";
import { JsonlChecker, MAX_LINE_BYTES } from "./jsonl-validator";

function check(text: string | Buffer, chunk = 7) {
  const c = new JsonlChecker();
  const buf = typeof text === "string" ? Buffer.from(text) : text;
  for (let i = 0; i < buf.length; i += chunk) c.write(buf.subarray(i, i + chunk));
  try {
    return { ok: c.end() };
  } catch (err) {
    return { error: (err as { details: unknown }).details };
  }
}

describe("JsonlChecker", () => {
  it("counts rows across chunk boundaries and detects the format", () => {
    const rows = Array.from({ length: 5 }, (_, i) => JSON.stringify({ prompt: `é${i}`, completion: "ü" })).join("\n");
    expect(check(rows, 3)).toEqual({ ok: { rowCount: 5, format: "prompt_completion" } });
    const chat = `\uFEFF${JSON.stringify({
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
      ],
    })}\r\n\r\n`;
    expect(check(chat)).toEqual({ ok: { rowCount: 1, format: "chat" } });
  });

  it("reports chat shape problems, invalid UTF-8 and overlong lines by line number", () => {
    const lines = [
      JSON.stringify({ messages: [] }),
      JSON.stringify({ messages: [{ role: "user", content: 1 }] }),
      JSON.stringify({ messages: [{ role: "user", content: "only a question" }] }),
    ].join("\n");
    const bad = Buffer.concat([
      Buffer.from(`${lines}\n`),
      Buffer.from([0xff, 0xfe, 0x0a]),
      Buffer.from(`{"prompt":"${"x".repeat(MAX_LINE_BYTES)}"}\n`),
    ]);
    expect(check(bad, 64 * 1024)).toEqual({
      error: {
        truncated: false,
        badLines: [
          { line: 1, reason: "messages must be a non-empty array" },
          { line: 2, reason: "messages[0].content must be a string" },
          { line: 3, reason: "messages must include an assistant message" },
          { line: 4, reason: "not valid UTF-8" },
          { line: 5, reason: `line longer than ${MAX_LINE_BYTES} bytes` },
        ],
      },
    });
  });
});

describe("the rows the pod agent accepts (issue 15, finding 2: pod-agent/tests/fixtures, also read by test_data.py)", () => {
  const dir = path.join(__dirname, "..", "..", "..", "..", "pod-agent", "tests", "fixtures");
  const expected = JSON.parse(readFileSync(path.join(dir, "datasets.json"), "utf8")) as Record<
    string,
    { format?: string; rows?: number; line?: number; reason?: string }
  >;
  const names = Object.keys(expected).filter((k) => !k.startsWith("/"));
  it.each(names)("%s", (name) => {
    const want = expected[name]!;
    const got = check(readFileSync(path.join(dir, "datasets", name)));
    if (want.format) expect(got).toEqual({ ok: { rowCount: want.rows, format: want.format } });
    else expect((got.error as { badLines: unknown[] }).badLines[0]).toEqual({ line: want.line, reason: want.reason });
  });
});
