import { startSystem, type System } from "../support/system";
import { TestClient } from "./support/client";

// Issue 23's "scale model" of a 70B run on the simulator: the real pod agent (real HTTP, heartbeats, phases,
// uploads) with only the ML part simulated at scale: a model download, a load, a tokenization that takes a while,
// a trainer silent for twice the heartbeat timeout before its first step (what loading a 70B model looks like),
// and merged weights in three shards. Before the agent such a run was failed HEARTBEAT_TIMEOUT.
const HEARTBEAT_TIMEOUT_S = 2;

let sys: System;
let user: TestClient;

beforeAll(async () => {
  sys = await startSystem({ env: { HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_S) } });
  user = await TestClient.create(sys, "scale-model@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

it("a big run's long silences and phases are not a dead pod: it SUCCEEDS with every phase and every shard", async () => {
  const shardBytes = 256 * 1024;
  const hp = {
    steps: 4,
    sim_step_ms: 50,
    sim_model_bytes: 140_000_000_000, // 140 GB at 70 GB/s: 2 s
    sim_download_bytes_per_s: 70_000_000_000,
    sim_load_s: 1,
    sim_rows_per_s: 2, // the test dataset's rows in a few seconds
    sim_silent_s: 2 * HEARTBEAT_TIMEOUT_S,
    sim_output_shards: 3,
    sim_shard_bytes: shardBytes,
  };
  const sub = await user.submit(hp);
  expect(sub.status).toBe(202);
  const d = await user.settled(sub.body.id, 90_000);
  if (d.status !== "SUCCEEDED") throw new Error(`${d.status} ${d.failureReason}: ${d.failureMessage}`);

  const events = await sys.db.prisma.deploymentEvent.findMany({
    where: { deploymentId: d.id },
    orderBy: { id: "asc" },
  });
  const started = events.filter((e) => e.type === "phase_started").map((e) => (e.data as { phase: string }).phase);
  expect(started).toEqual([
    "setup",
    "dataset_download",
    "model_download",
    "load",
    "tokenize",
    "train",
    "save",
    "upload",
  ]);
  const ended = new Map(
    events
      .filter((e) => e.type === "phase_ended")
      .map((e) => [(e.data as { phase: string }).phase, e.data as Record<string, unknown>]),
  );
  expect(ended.get("model_download")).toMatchObject({ done: 140_000_000_000, total: 140_000_000_000, unit: "bytes" });
  expect(Number(ended.get("train")?.seconds)).toBeGreaterThanOrEqual(2 * HEARTBEAT_TIMEOUT_S);
  expect(events.some((e) => e.type === "failed")).toBe(false);

  const artifacts = await sys.db.prisma.artifact.findMany({ where: { deploymentId: d.id }, orderBy: { path: "asc" } });
  const shards = artifacts.filter((a) => /^merged\/model-\d{5}-of-00003\.safetensors$/.test(a.path));
  expect(shards.map((a) => [a.status, Number(a.sizeBytes)])).toEqual([
    ["STORED", shardBytes],
    ["STORED", shardBytes],
    ["STORED", shardBytes],
  ]);
  expect(artifacts.map((a) => a.path)).toContain("merged/model.safetensors.index.json");
}, 120_000);
