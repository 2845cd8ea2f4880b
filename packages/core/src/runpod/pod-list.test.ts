import { Writable } from "node:stream";
import winston from "winston";
import { createLogger } from "../logging/logger";
import { BadResponseError } from "./errors";
import { RunPodRestClient } from "./rest-client";

// GET /v2/pods read leniently (issue 32 item 6): one pod trainpod cannot read, or a status it does not know, must
// not fail the whole listing (the monitor and reconcile judge every pod from it); a cursor, if RunPod's answer ever
// carries one, is followed. The simulator answers as our spec copy does (one page, every field): these answers
// are what a RunPod newer than the spec may send, so they are scripted here.
const SECRET = "tp_run_SECRETSECRETSECRETSECRETSECRETSECRET123";
const pod = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  name: `trainpod-${id}`,
  status: "RUNNING",
  cost: 0.74,
  createdAt: "2026-12-01T10:00:00Z",
  startedAt: null,
  gpu: { id: "NVIDIA A40", count: 1 },
  env: { TRAINPOD_RUN_TOKEN: SECRET },
  ...over,
});

function harness(pages: unknown[]) {
  const urls: string[] = [];
  const lines: string[] = [];
  const skipped: Array<{ podId: string | null; issues: string[] }> = [];
  const logger = createLogger({
    service: "test",
    level: "silly",
    format: "json",
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _enc, cb) {
            lines.push(chunk.toString("utf8"));
            cb();
          },
        }),
      }),
    ],
  });
  const client = new RunPodRestClient({
    baseUrl: "https://api.example/v2",
    apiKey: "rpa_UNITTESTKEY_0123456789abcdef",
    logger,
    onPodSkipped: (s) => skipped.push(s),
    fetch: async (url) => {
      urls.push(String(url));
      const body = pages.shift();
      if (body === undefined) throw new Error("no more scripted answers");
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    },
    sleep: async () => undefined,
  });
  return { client, urls, lines, skipped };
}

describe("listPods reads each pod on its own", () => {
  it("skips (logs and counts) a pod it cannot read; an unknown status is 'unknown'; a missing gpu.count is 1", async () => {
    const { client, lines, skipped } = harness([
      {
        pods: [
          pod("p1"),
          pod("p2", { gpu: { id: "NVIDIA A40" } }),
          pod("p3", { status: "MIGRATING" }),
          pod("p4", { createdAt: "yesterday-ish" }),
          { name: "trainpod-nameless", env: { TRAINPOD_RUN_TOKEN: SECRET } },
        ],
      },
    ]);
    const pods = await client.listPods({ namePrefix: "trainpod-" });
    expect(pods.map((p) => [p.id, p.status, p.gpu?.count])).toEqual([
      ["p1", "RUNNING", 1],
      ["p2", "RUNNING", 1],
      ["p3", "unknown", 1],
    ]);
    expect(skipped).toEqual([
      { podId: "p4", name: "trainpod-p4", issues: [expect.stringMatching(/^createdAt: /)] },
      { podId: null, name: "trainpod-nameless", issues: expect.arrayContaining([expect.stringMatching(/^id: /)]) },
    ]);
    const warned = lines.filter((l) => l.includes("skipped"));
    expect(warned).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("follows the answer's cursor to the end, and stops on a cursor it was already given", async () => {
    const { client, urls } = harness([
      { pods: [pod("p1")], nextCursor: "c2" },
      { pods: [pod("p2")], nextCursor: "c3" },
      { pods: [pod("p3")], nextCursor: null },
    ]);
    expect((await client.listPods()).map((p) => p.id)).toEqual(["p1", "p2", "p3"]);
    expect(urls).toEqual([
      "https://api.example/v2/pods",
      "https://api.example/v2/pods?cursor=c2",
      "https://api.example/v2/pods?cursor=c3",
    ]);

    const looping = harness([
      { pods: [pod("p1")], nextCursor: "c2" },
      { pods: [pod("p2")], nextCursor: "c2" },
    ]);
    await expect(looping.client.listPods()).rejects.toThrow(BadResponseError);
    await expect(
      harness([
        { pods: [], nextCursor: "c2" },
        { pods: [], nextCursor: "c2" },
      ]).client.listPods(),
    ).rejects.toThrow(/cursor c2 again/);
  });

  it("still refuses an answer that is not a list of pods", async () => {
    await expect(harness([{ items: [pod("p1")] }]).client.listPods()).rejects.toThrow(BadResponseError);
    await expect(harness([{ pods: "p1" }]).client.listPods()).rejects.toThrow(/pods/);
  });
});
