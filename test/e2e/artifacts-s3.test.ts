/**
 * STORAGE=s3 end to end, against a real S3-compatible server (LocalStack, test/support/s3-server.ts): the pod
 * fetches its dataset from a presigned URL the token was spent for, uploads its files with presigned PUTs (a big
 * one in parts), and the owner downloads them from the bucket. Neither the dataset nor the artifacts pass through
 * the API: counted in bytes on the API's sockets.
 */
import { createHash } from "node:crypto";
import { mintDatasetToken } from "@trainpod/core";
import { useTestBucket } from "../support/s3-server";
import { startSystem, type System } from "../support/system";
import { TestClient, type Json } from "./support/client";

const MiB = 1024 * 1024;
const bucket = useTestBucket();
let sys: System;
let alice: TestClient;

beforeAll(async () => {
  sys = await startSystem({
    env: { ...bucket.env, S3_MULTIPART_PART_BYTES: String(5 * MiB), S3_PRESIGN_SECONDS: "60" },
  });
  alice = await TestClient.create(sys, "alice@example.com");
}, 90_000);
afterAll(async () => sys?.stop());

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A chat dataset of about `bytes` bytes. */
function bigDataset(bytes: number): string {
  const line = JSON.stringify({
    messages: [
      { role: "user", content: "x".repeat(900) },
      { role: "assistant", content: "y" },
    ],
  });
  return Array.from({ length: Math.ceil(bytes / (line.length + 1)) }, () => line).join("\n");
}

describe("STORAGE=s3", () => {
  it("a run's dataset and artifacts go between the pod and the bucket; the owner downloads from the bucket", async () => {
    const up = await fetch(`${sys.apiUrl}/v1/datasets?name=big`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.key}`, "content-type": "application/x-ndjson" },
      body: bigDataset(2 * MiB),
    });
    expect(up.status).toBe(201);
    const dataset = (await up.json()) as Json;
    const before = sys.apiBytes();

    const sub = await alice.submit(
      { steps: 2, sim_step_ms: 20, sim_extra_artifact_bytes: 11 * MiB },
      { datasetId: dataset.id },
    );
    expect(sub.status).toBe(202);
    const d = await alice.settled(sub.body.id, 60_000);
    expect([d.status, d.failureReason, d.failureMessage]).toEqual(["SUCCEEDED", null, null]);
    const list = await alice.api("GET", `/v1/deployments/${d.id}/artifacts`);
    const files = list.body.items as Array<{ path: string; sizeBytes: number; sha256: string }>;
    expect(files.map((f) => f.path)).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "merged/model.safetensors",
      "trainer_state.json",
    ]);
    expect(files.find((f) => f.path === "merged/model.safetensors")?.sizeBytes).toBe(11 * MiB);
    // the big file went up in three parts
    const lines = (
      await sys.db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id, type: "log" } })
    ).flatMap((e) => (e.data as { lines?: string[] })?.lines ?? []);
    expect(lines.some((l) => l.endsWith(`uploading merged/model.safetensors in 3 parts of ${5 * MiB} bytes`))).toBe(
      true,
    );

    // the owner's download: a redirect to the bucket, which serves the bytes (and the API key stays here)
    for (const f of files) {
      const res = await fetch(`${sys.apiUrl}/v1/deployments/${d.id}/artifacts/${f.path}`, {
        headers: { authorization: `Bearer ${alice.key}` },
        redirect: "manual",
      });
      expect([f.path, res.status, res.headers.get("x-content-sha256")]).toEqual([f.path, 302, f.sha256]);
      const location = res.headers.get("location") ?? "";
      expect(location.startsWith(bucket.endpoint)).toBe(true);
      const body = Buffer.from(await (await fetch(location)).arrayBuffer());
      expect([f.path, body.length, sha256(body)]).toEqual([f.path, f.sizeBytes, f.sha256]);
    }

    // 2 MiB of dataset and 11+ MiB of artifacts moved, downloaded once more: the API's sockets saw a few KB of JSON
    const after = sys.apiBytes();
    const moved = { read: after.read - before.read, written: after.written - before.written };
    process.stdout.write(
      `API socket bytes during an S3 run moving ${13 * MiB + 11 * MiB} bytes: ${JSON.stringify(moved)}\n`,
    );
    expect(moved.read).toBeLessThan(512 * 1024);
    expect(moved.written).toBeLessThan(512 * 1024);
  }, 90_000);

  it("a dataset token claimed twice gives one presigned URL only", async () => {
    const sub = await alice.submit({ steps: 1, sim_step_ms: 10 });
    const d = await alice.settled(sub.body.id, 30_000);
    const minted = await mintDatasetToken(
      { prisma: sys.db.prisma, clock: sys.worker.clock, config: sys.config },
      { deploymentId: d.id },
    );
    const first = await fetch(minted.url, { redirect: "manual" });
    expect([first.status, (first.headers.get("location") ?? "").startsWith(bucket.endpoint)]).toEqual([302, true]);
    const second = await fetch(minted.url, { redirect: "manual" });
    expect([second.status, ((await second.json()) as Json).error.code, second.headers.get("location")]).toEqual([
      401,
      "TOKEN_USED",
      null,
    ]);
    const bytes = Buffer.from(await (await fetch(first.headers.get("location") ?? "")).arrayBuffer());
    expect(sha256(bytes)).toBe(((await alice.api("GET", `/v1/datasets/${alice.datasetId}`)).body as Json).sha256);
  }, 60_000);
});
