import { startSystem, type System } from "../support/system";
import { TestClient } from "./support/client";

// Issue 26 item 4: a 2-GPU deployment's pod runs its trainer under torchrun, one process per GPU. The simulator's
// pods run the real agent with the ML simulated: it makes the same launch plan and logs it, and runs one process.
let sys: System;
let alice: TestClient;

beforeAll(async () => {
  sys = await startSystem();
  alice = await TestClient.create(sys, "alice@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

it("a 2-GPU run names its distributed launch in the log and reports its global batch", async () => {
  const hp = { steps: 2, sim_step_ms: 20, batch_size: 2, gradient_accumulation_steps: 3 };
  const sub = await alice.submit(hp, { gpuCount: 2 });
  expect(sub.status).toBe(202);
  const d = await alice.settled(sub.body.id);
  expect(d.status).toBe("SUCCEEDED");
  expect(d.gpuCount).toBe(2);
  const rows = await sys.db.prisma.deploymentEvent.findMany({
    where: { deploymentId: d.id, type: "log" },
    orderBy: { id: "asc" },
  });
  const lines = rows.flatMap((r) => (r.data as { lines: string[] }).lines);
  expect(lines.some((l) => l.includes("launch: torchrun --standalone --nproc-per-node 2 (DDP"))).toBe(true);
  expect(lines.some((l) => l.includes("launch: simulated ML, one process stands for the 2 ranks"))).toBe(true);
  expect(lines.some((l) => l.includes("2 rows per device × 3 accumulation steps × 2 process(es) = 12 rows"))).toBe(
    true,
  );
  // the train phase's facts (the deployment's `phases`)
  const train = JSON.stringify((d.phases as Array<{ name: string }>).find((p) => p.name === "train"));
  expect(train).toMatch(/"processes":2\b/);
  expect(train).toMatch(/"global_batch":12\b/);
}, 60_000);
