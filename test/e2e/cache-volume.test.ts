import { createHash } from "node:crypto";
import { createUserWithKey } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { TestClient, type Json } from "./support/client";

// Issue 28: a cache volume per data centre holds the trainer's packages and the model's weights. The simulator's pods
// run the real agent; the install and the download are simulated at sizes and speeds given as hyperparameters (an
// 8B model's 16 GB and 3 GB of packages, at bandwidths scaled 10× so the test stays short: cold = size / bandwidth).
let sys: System;
let alice: TestClient;
let adminKey: string;

const SCALED = {
  steps: 2,
  sim_step_ms: 50,
  sim_packages_bytes: 3e9,
  sim_install_bytes_per_s: 1e9, // 100 MB/s × 10
  sim_model_bytes: 16e9,
  sim_download_bytes_per_s: 2e9, // 200 MB/s × 10
};

beforeAll(async () => {
  // the operator's images (the default trainer image among them); a user's own patterns never mount the cache
  sys = await startSystem({ env: { ALLOWED_IMAGES: "runpod/*" } });
  alice = await TestClient.create(sys, "alice@example.com");
  adminKey = (await createUserWithKey(sys.db.prisma, { email: "ops@example.com", role: "ADMIN" })).key;
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sys.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
};
const phase = (d: Json, name: string): Json => (d.phases as Json[]).find((p) => p.name === name) ?? {};
const summary = (d: Json) =>
  `first step ${d.timeToFirstStep.seconds}s (boot ${d.timeToFirstStep.bootSeconds}s, install ${phase(d, "install").seconds}s` +
  ` hit ${phase(d, "install").cache_hit}, model_download ${phase(d, "model_download").seconds}s hit ${phase(d, "model_download").cache_hit})`;
const events = (d: Json, type: string): Json[] => (d.events as Json[]).filter((e) => e.type === type);

async function run(model: string): Promise<Json> {
  const sub = await alice.submit(SCALED, { baseModel: model, volumeInGb: 50 });
  expect(sub.status).toBe(202);
  const d = await alice.settled(sub.body.id, 60_000);
  expect(d.status).toBe("SUCCEEDED");
  return d;
}

it("an admin creates the data centre's cache volume; it is listed with its monthly price", async () => {
  const created = await admin("POST", "/v1/admin/cache-volumes", { dataCenter: "EU-RO-1", sizeGb: 500 });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ dataCenter: "EU-RO-1", sizeGb: 500, monthUsd: "35.000000" });
  expect((await admin("POST", "/v1/admin/cache-volumes", { dataCenter: "EU-RO-1", sizeGb: 10 })).status).toBe(409);
  const spend = await admin("GET", "/v1/admin/spend");
  expect(spend.body.cacheVolumes).toMatchObject({ monthUsd: "35.000000", items: [{ dataCenter: "EU-RO-1" }] });
  // alice is no admin
  expect((await alice.api("GET", "/v1/admin/cache-volumes")).status).toBe(403);
}, 30_000);

it("the first run fills the cache, the second of the same model skips install and download", async () => {
  const cold = await run("org/llama-8b");
  const warm = await run("org/llama-8b");
  process.stdout.write(`cache cold: ${summary(cold)}\ncache warm: ${summary(warm)}\n`);
  expect([phase(cold, "install").cache_hit, phase(cold, "model_download").cache_hit]).toEqual([0, 0]);
  expect([phase(warm, "install").cache_hit, phase(warm, "model_download").cache_hit]).toEqual([1, 1]);
  expect(phase(cold, "install").seconds + phase(cold, "model_download").seconds).toBeGreaterThan(10);
  // the warm run transferred nothing (facts); its phases' time is a small share of the cold one's (loaded machines vary)
  expect(phase(warm, "model_download").bytes).toBe(0);
  expect(phase(warm, "install").seconds + phase(warm, "model_download").seconds).toBeLessThan(
    (phase(cold, "install").seconds + phase(cold, "model_download").seconds) / 4,
  );
  expect(warm.timeToFirstStep.seconds).toBeLessThan(cold.timeToFirstStep.seconds - 8);
  for (const d of [cold, warm]) {
    expect(d.pod.dataCenterId).toBe("EU-RO-1");
    // the 50 GB persistent volume asked for was dropped, and the deployment says so
    expect(events(d, "cache_volume_mounted")[0]?.message).toMatch(/the 50 GB persistent volume was dropped/);
  }
}, 150_000);

it("two concurrent runs on one cache both succeed, and a pod never has both mounts", async () => {
  const [a, b] = await Promise.all([run("org/mistral-7b"), run("org/mistral-7b")]);
  const hits = [phase(a, "model_download").cache_hit, phase(b, "model_download").cache_hit].sort();
  // one downloaded; the other waited for it (or came after) and used it
  expect(hits).toEqual([0, 1]);
  const pods = (await (await sys.sim.admin("/admin/pods")).json()) as Json[];
  expect(pods.length).toBeGreaterThanOrEqual(4);
  for (const p of pods) {
    expect(p.mounts.network).toHaveLength(1);
    expect(p.mounts.persistent).toBeUndefined();
  }
}, 150_000);

it("bob's run of the model alice cached uses the shared packages but never her weights (no hub: per user)", async () => {
  const bob = await TestClient.create(sys, "bob@example.com");
  const refused = await bob.submit(SCALED, {
    baseModel: "/trainpod-cache/users/0123456789abcdef/hf/hub/models--org--llama-8b/snapshots/sim",
  });
  expect([refused.status, refused.body.error?.details?.problems?.[0]?.code]).toEqual([422, "BASE_MODEL_INVALID"]);
  const sub = await bob.submit(SCALED, { baseModel: "org/llama-8b", volumeInGb: 50, containerDiskInGb: 20 });
  const d = await bob.settled(sub.body.id, 60_000);
  expect(d.status).toBe("SUCCEEDED");
  expect([phase(d, "install").cache_hit, phase(d, "model_download").cache_hit]).toEqual([1, 0]);
  expect(events(d, "cache_volume_mounted")[0]?.message).toMatch(/added to the container disk, 70 GB in all/);
  const pod = (await (await sys.sim.admin(`/admin/pods/${d.pod.id}`)).json()) as Json;
  expect(pod.envSha256.TRAINPOD_CACHE_SCOPE).toBe(createHash("sha256").update("user").digest("hex"));
  expect(pod.disk).toBe(70); // the dropped 50 GB volume's room, on the container disk
}, 90_000);

it("a user's own image (extraImages, not ALLOWED_IMAGES) never mounts the cache volume, and the run says why", async () => {
  const carol = await TestClient.create(sys, "carol@example.com");
  const user = await sys.db.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" } });
  expect((await admin("PUT", `/v1/admin/users/${user.id}/limits`, { extraImages: ["carol/*"] })).status).toBe(200);
  const sub = await carol.submit({ steps: 1, sim_step_ms: 10 }, { image: "carol/trainer:1", cache: "require" });
  expect(sub.status).toBe(202);
  const d = await carol.settled(sub.body.id, 30_000);
  expect(d.status).toBe("SUCCEEDED");
  expect(events(d, "cache_volume_mounted")).toEqual([]);
  expect(events(d, "cache_volume_skipped")[0]?.message).toMatch(
    /image docker\.io\/carol\/trainer:1 is not one of the operator's ALLOWED_IMAGES|image carol\/trainer:1 is not one of the operator's ALLOWED_IMAGES/,
  );
  const pod = (await (await sys.sim.admin(`/admin/pods/${d.pod.id}`)).json()) as Json;
  expect(pod.mounts?.network).toBeUndefined();
}, 60_000);

it("an admin removes the cache volume; the next run is placed without one", async () => {
  const listed = await admin("GET", "/v1/admin/cache-volumes");
  const id = listed.body.items[0].id as string;
  expect((await admin("DELETE", `/v1/admin/cache-volumes/${id}`)).status).toBe(200);
  expect((await admin("GET", "/v1/admin/cache-volumes")).body.items).toEqual([]);
  const d = await alice.settled((await alice.submit({ steps: 1, sim_step_ms: 10 })).body.id, 30_000);
  expect(d.status).toBe("SUCCEEDED");
  expect(events(d, "cache_volume_mounted")).toEqual([]);
}, 60_000);
