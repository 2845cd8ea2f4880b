/**
 * Spend control end to end, on the simulator: budgets refuse a submission that could go over (422 BUDGET_LIMIT
 * with the figures), per-user slots make deployments wait QUEUED in order without making other users wait,
 * images and caps are refused at submit, and an admin's `stop` rule stops a running deployment once the month's
 * spend reaches the budget (the default `block` leaves it running).
 */
import path from "node:path";
import { createUserWithKey } from "@trainpod/core";
import { runCli, type CliRun } from "../support/cli-process";
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

let sys: System;
let admin: string;

beforeAll(async () => {
  sys = await startSystem({
    env: {
      USER_MONTHLY_BUDGET_USD: "5",
      USER_MAX_LIVE_DEPLOYMENTS: "1",
      USER_MAX_GPUS: "0",
      ALLOWED_IMAGES: "runpod/*",
      MAX_GPU_COUNT: "4",
      MAX_RUNTIME_MINUTES: "600",
      MAX_COST_USD_PER_DEPLOYMENT: "4",
      MONITOR_INTERVAL_MS: "300",
    },
  });
  admin = (await createUserWithKey(sys.db.prisma, { email: "admin@example.com", role: "ADMIN" })).key;
}, 60_000);
afterAll(async () => sys?.stop());

async function adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sys.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** The CLI as its own process (the bin `npx trainpod` runs). */
function cli(args: string[], key: string): Promise<CliRun> {
  const configDir = path.join(sys.config.env.DATASET_DIR, "..", "cli");
  return runCli(args, { TRAINPOD_API_URL: sys.apiUrl, TRAINPOD_API_KEY: key, TRAINPOD_CONFIG_DIR: configDir });
}

const problems = (body: Json) =>
  (body.error?.details?.problems as Array<{ code: string }> | undefined)?.map((p) => p.code);

describe("spend control", () => {
  it("caps and images: refused at submit with the limit or the pattern list, nothing written", async () => {
    const eve = await TestClient.create(sys, "eve@example.com");
    const before = await sys.db.prisma.deployment.count();
    const image = await eve.submit({ steps: 1 }, { image: "docker.io/evil/miner:latest", maxCostUsd: "1" });
    expect([image.status, problems(image.body)]).toEqual([422, ["IMAGE_NOT_ALLOWED"]]);
    expect(image.body.error.details.problems[0].message).toMatch(/allowed: runpod\/\*$/);
    const caps = await eve.submit({ steps: 1 }, { gpuCount: 8, maxRuntimeMinutes: 10_080, maxCostUsd: "9999999" });
    expect([caps.status, problems(caps.body)?.sort()]).toEqual([
      422,
      ["COST_OVER_LIMIT", "GPU_COUNT_OVER_LIMIT", "RUNTIME_OVER_LIMIT"],
    ]);
    expect(await sys.db.prisma.deployment.count()).toBe(before);
  });

  it("a submission that could take the month over budget is 422 BUDGET_LIMIT with the figures; live ones count at their worst case", async () => {
    const carol = await TestClient.create(sys, "carol@example.com");
    const first = await carol.submit({ steps: 40, sim_step_ms: 100 }, { maxCostUsd: "3" });
    expect(first.status).toBe(202);
    const second = await carol.submit({ steps: 1 }, { maxCostUsd: "3" });
    expect([second.status, second.body.error.code]).toEqual([422, "BUDGET_LIMIT"]);
    expect(second.body.error.details).toMatchObject({ limitUsd: "5.000000", requestedUsd: "3.000000" });
    const d = second.body.error.details as Record<string, string>;
    expect(Number(d.spentUsd) + Number(d.liveRemainingUsd)).toBeCloseTo(3, 6);
    expect(Number(d.availableUsd)).toBeCloseTo(2, 6);
    expect(
      await sys.db.prisma.deployment.count({
        where: { userId: (await sys.db.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" } })).id },
      }),
    ).toBe(1);
    // the user sees the same figures for themselves
    const own = (await carol.api("GET", "/v1/spend")).body;
    expect(own).toMatchObject({
      limits: { monthlyBudgetUsd: "5.000000", onExceed: "block", maxLiveDeployments: 1 },
      liveDeployments: 1,
    });
    expect(Number(own.availableUsd)).toBeCloseTo(2, 6);
    await carol.api("POST", `/v1/deployments/${first.body.id}/cancel`);
    await carol.settled(first.body.id);
  }, 60_000);

  it("over the slot limit a user's deployments wait QUEUED and start in order; another user's does not wait behind them", async () => {
    const alice = await TestClient.create(sys, "alice@example.com");
    const bob = await TestClient.create(sys, "bob@example.com");
    const run = { steps: 6, sim_step_ms: 150 };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await alice.submit(run, { maxCostUsd: "1" })).body.id);
    const bobId = (await bob.submit(run, { maxCostUsd: "1" })).body.id;
    const done = await Promise.all([...ids, bobId].map((id, i) => (i < 3 ? alice : bob).settled(id, 60_000)));
    expect(done.map((d) => d.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    const rows = await sys.db.prisma.deployment.findMany({ where: { id: { in: [...ids, bobId] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const created = (id: string) => byId.get(id)!.podCreatedAt!.getTime();
    const terminated = (id: string) => byId.get(id)!.podTerminatedAt!.getTime();
    // Alice's in submission order, one pod at a time (each starts after the previous pod is terminated)
    expect(created(ids[0]!)).toBeLessThan(created(ids[1]!));
    expect(created(ids[1]!)).toBeLessThan(created(ids[2]!));
    expect(created(ids[1]!)).toBeGreaterThanOrEqual(terminated(ids[0]!));
    expect(created(ids[2]!)).toBeGreaterThanOrEqual(terminated(ids[1]!));
    // Bob, who submitted last, started before Alice's second and third
    expect(created(bobId)).toBeLessThan(created(ids[1]!));
    // the wait is in the timeline: `waiting` with the reason, then `slot_acquired`
    const types = async (id: string) =>
      (await sys.db.prisma.deploymentEvent.findMany({ where: { deploymentId: id }, orderBy: { id: "asc" } })).map(
        (e) => `${e.type}${e.type === "waiting" ? `: ${e.message}` : ""}`,
      );
    const second = await types(ids[1]!);
    // the slot is held by the first (its pod runs), or claimed by it a moment before (its deploy job still runs:
    // then the second waits behind an earlier deployment of its user), whichever its job met
    expect(second.find((t) => t.startsWith("waiting"))).toMatch(
      /^waiting: waiting for a slot: (1 of 1 live deployments|0 of 1 live deployments; 1 earlier deployment\(s\) of yours wait first)$/,
    );
    expect(second.indexOf("slot_acquired")).toBeGreaterThan(0);
    expect((await types(ids[2]!)).filter((t) => t.startsWith("waiting"))).toHaveLength(1);
    expect((await types(bobId)).some((t) => t.startsWith("waiting"))).toBe(false);
  }, 90_000);

  it("an admin's `stop` rule stops a running deployment once the month's spend reaches the budget; `block` leaves it running", async () => {
    const dave = await TestClient.create(sys, "dave@example.com");
    const daveId = (await sys.db.prisma.user.findUniqueOrThrow({ where: { email: "dave@example.com" } })).id;
    const frank = await TestClient.create(sys, "frank@example.com");
    const frankId = (await sys.db.prisma.user.findUniqueOrThrow({ where: { email: "frank@example.com" } })).id;
    const long = { steps: 200, sim_step_ms: 100 };
    const daves = (await dave.submit(long, { maxCostUsd: "1" })).body.id;
    const franks = (await frank.submit({ steps: 30, sim_step_ms: 100 }, { maxCostUsd: "1" })).body.id;
    await until(
      "both running",
      async () =>
        ((await dave.get(daves)).status === "RUNNING" && (await frank.get(franks)).status === "RUNNING") || null,
      30_000,
    );
    const set = await adminCall("PUT", `/v1/admin/users/${daveId}/limits`, {
      monthlyBudgetUsd: "0.000001",
      onExceed: "stop",
    });
    expect([set.status, set.body.limits.monthlyBudgetUsd, set.body.limits.onExceed, set.body.overrides]).toEqual([
      200,
      "0.000001",
      "stop",
      ["monthlyBudgetUsd", "onExceed"],
    ]);
    expect((await adminCall("PUT", `/v1/admin/users/${frankId}/limits`, { monthlyBudgetUsd: "0.000001" })).status).toBe(
      200,
    );
    const stopped = await dave.settled(daves, 30_000);
    expect([stopped.status, stopped.failureReason]).toEqual(["FAILED", "BUDGET_EXCEEDED"]);
    expect(stopped.failureMessage).toMatch(/monthly budget of 0\.000001 USD is spent .* and its rule is stop/);
    const kept = await frank.settled(franks, 30_000);
    expect(kept.status).toBe("SUCCEEDED");
    // blocked: nothing new for Frank; the spend report shows both against their limits
    const refused = await frank.submit({ steps: 1 }, { maxCostUsd: "1" });
    expect([refused.status, refused.body.error.code]).toEqual([422, "BUDGET_LIMIT"]);
    const report = (await adminCall("GET", "/v1/admin/spend")).body.items as Array<Json>;
    const frankRow = report.find((r) => r.email === "frank@example.com");
    expect(frankRow).toMatchObject({ limits: { monthlyBudgetUsd: "0.000001", onExceed: "block" }, liveDeployments: 0 });
    expect(Number(frankRow?.spentUsd)).toBeGreaterThan(0);
    const bad = await adminCall("PUT", `/v1/admin/users/${frankId}/limits`, { monthlyBudget: 5 });
    expect([bad.status, bad.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
  }, 90_000);

  it("the CLI: an admin sets a user's limits by email and reads spend per user; the user reads their own", async () => {
    const grace = await TestClient.create(sys, "grace@example.com");
    const set = await cli(
      ["admin", "limits", "grace@example.com", "--budget-usd", "2", "--max-live", "1", "--allow-image", "myorg/*"],
      admin,
    );
    expect([set.code, set.stdout.trim()]).toEqual([
      0,
      "grace@example.com: budget $2.00 (block), pods 1, GPUs ∞, images runpod/*, myorg/*; spent this month $0.00",
    ]);
    const table = await cli(["admin", "spend"], admin);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^grace@example\.com +\$0\.00 +\$0\.00 +\$2\.00 +block +0\/1 +0\/∞ +0 +monthlyBudgetUsd, maxLiveDeployments, extraImages$/m,
    );
    const own = await cli(["spend"], grace.key);
    expect([own.code, own.stdout.split("\n")[1]]).toEqual([0, "budget $2.00 (block), available for a new run: $2.00"]);
    const refused = await cli(["admin", "limits", "grace@example.com", "--max-live", "2"], grace.key);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/FORBIDDEN \(HTTP 403\)/)]);
    const allowed = await grace.submit({ steps: 1, sim_step_ms: 10 }, { image: "myorg/trainer:1", maxCostUsd: "1" });
    expect(allowed.status).toBe(202);
    await grace.settled(allowed.body.id, 30_000);
  }, 60_000);

  it("thirty deployments of one user at once under a slot limit of 3: all succeed, never more than 3 pods at once", async () => {
    const heidi = await TestClient.create(sys, "heidi@example.com");
    const heidiId = (await sys.db.prisma.user.findUniqueOrThrow({ where: { email: "heidi@example.com" } })).id;
    expect(
      (await adminCall("PUT", `/v1/admin/users/${heidiId}/limits`, { maxLiveDeployments: 3, monthlyBudgetUsd: "0" }))
        .status,
    ).toBe(200);
    const ids = await Promise.all(
      Array.from(
        { length: 30 },
        async () => (await heidi.submit({ steps: 2, sim_step_ms: 20 }, { maxCostUsd: "1" })).body.id as string,
      ),
    );
    // a slow machine only makes this slow (a CI run once needed over 120 s); a lost wake-up stops it: no close for 60 s
    const started = Date.now();
    const done = await heidi.settledAll(ids, 60_000);
    process.stdout.write(`thirty deployments under a slot limit of 3 closed in ${Date.now() - started} ms\n`);
    expect(
      done.filter((d) => d.status !== "SUCCEEDED").map((d) => [d.status, d.failureReason, d.failureMessage]),
    ).toEqual([]);
    // pods held at once, from the recorded intervals [podRequestedAt, podTerminatedAt]
    const rows = await sys.db.prisma.deployment.findMany({
      where: { id: { in: ids } },
      select: { podRequestedAt: true, podTerminatedAt: true },
    });
    const edges = rows
      .flatMap(
        (r) =>
          [
            [r.podRequestedAt!.getTime(), 1],
            [r.podTerminatedAt!.getTime(), -1],
          ] as Array<[number, number]>,
      )
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let held = 0;
    let most = 0;
    for (const [, step] of edges) most = Math.max(most, (held += step));
    expect(most).toBe(3);
  }, 900_000);
});
