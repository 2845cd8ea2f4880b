import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { ApiClient, ApiError } from "./api-client";
import { watchDeployment } from "./watch";

const ID = "6f1c3a52-3c0f-4a8e-9a51-0d1bb1f1a0aa";

/** A stand-in API whose stream answers, in turn, what `answers` lists; records each request's Last-Event-ID. */
async function fakeApi(
  answers: Array<(res: http.ServerResponse) => void>,
): Promise<{ api: ApiClient; seen: Array<string | undefined>; close(): Promise<void> }> {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers["last-event-id"] as string | undefined);
    (answers[seen.length - 1] ?? ((r) => r.writeHead(500).end()))(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    api: new ApiClient({ apiUrl: url, apiKey: "tp_live_test" }),
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const json = (status: number, body: unknown) => (res: http.ServerResponse) =>
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
const sse = (frames: string) => (res: http.ServerResponse) =>
  res.writeHead(200, { "content-type": "text/event-stream" }).end(frames);
const out = () => new PassThrough() as unknown as NodeJS.WriteStream;

describe("watchDeployment", () => {
  it("waits out a 429 (too many streams) and a 503, resumes after the last event id, and returns the final deployment", async () => {
    const fake = await fakeApi([
      json(429, { error: { code: "RATE_LIMITED", message: "at most 10 open event streams per user" } }),
      sse(`id: 7\ndata: ${JSON.stringify({ id: "7", type: "log", data: { lines: ["hello"] } })}\n\n`),
      json(503, { error: { code: "INTERNAL", message: "restarting" } }),
      sse(`event: end\ndata: ${JSON.stringify({ id: ID, status: "SUCCEEDED" })}\n\n`),
    ]);
    try {
      const d = await watchDeployment(fake.api, ID, { stream: out() });
      expect(d).toEqual({ id: ID, status: "SUCCEEDED" });
      expect(fake.seen).toEqual([undefined, undefined, "7", "7"]);
    } finally {
      await fake.close();
    }
  }, 20_000);

  it("prints the current phase of a `live` frame (in a pipe: a line, not every frame)", async () => {
    const live = (done: number) =>
      `event: live\ndata: ${JSON.stringify({
        status: "RUNNING",
        progress: { step: null, totalSteps: null, loss: null },
        phase: { name: "model_download", state: "progress", done, total: 16e9, unit: "bytes", startedAt: null },
      })}\n\n`;
    const fake = await fakeApi([
      sse(`${live(3.2e9)}${live(3.3e9)}event: end\ndata: ${JSON.stringify({ id: ID, status: "SUCCEEDED" })}\n\n`),
    ]);
    const stream = out();
    let text = "";
    (stream as unknown as PassThrough).on("data", (c: Buffer) => (text += c.toString()));
    try {
      await watchDeployment(fake.api, ID, { stream });
      expect(text.trim().split("\n")).toEqual([
        expect.stringMatching(/^\d\d:\d\d:\d\d ▸ model_download 3.2\/16.0 GB$/),
      ]);
    } finally {
      await fake.close();
    }
  });

  it("gives up at once on a 404 (no retry)", async () => {
    const fake = await fakeApi([json(404, { error: { code: "NOT_FOUND", message: "deployment not found" } })]);
    try {
      await expect(watchDeployment(fake.api, ID, { stream: out() })).rejects.toBeInstanceOf(ApiError);
      expect(fake.seen).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
