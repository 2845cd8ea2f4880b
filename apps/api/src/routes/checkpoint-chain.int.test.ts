/**
 * Checkpoints kept across a chain of attempts (issue 27): a run keeps its last checkpoints_kept checkpoints, and once
 * an attempt that resumed it has checkpoints of its own, the interrupted attempts' older ones go too, so that the
 * whole chain holds checkpoints_kept (the newest first: the resumed attempt's, then the one it started from). Only
 * `checkpoints/` files are deleted, never an attempt's adapter or other outputs. Through the pod's own routes (run
 * tokens, STORAGE=local), files checked on disk.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { createUserWithKey, mintRunToken, type Prisma } from "@trainpod/core";
import { makeDataset, makeDeployment } from "../../../../test/factories";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let owner: { userId: string; datasetId: string };

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface Run {
  id: string;
  token: string;
}

async function put(run: Run, rel: string, text: string): Promise<void> {
  const data = Buffer.from(text);
  const auth = { authorization: `Bearer ${run.token}` };
  const declared = await fetch(`${h.url}/v1/runs/${run.id}/artifacts`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ path: rel, sizeBytes: data.length, sha256: sha256(data) }),
  });
  expect([rel, declared.status]).toEqual([rel, 201]);
  const stored = await fetch(`${h.url}/v1/runs/${run.id}/artifacts/${rel}`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/octet-stream" },
    body: data,
  });
  expect([rel, stored.status]).toEqual([rel, 201]);
}

const folder = (step: number) => `checkpoints/step-${String(step).padStart(6, "0")}`;

/** One checkpoint as the agent uploads it: the trainer's files, then the manifest that completes it. */
async function checkpoint(run: Run, step: number, complete = true): Promise<void> {
  await put(run, `${folder(step)}/adapter_model.safetensors`, `weights at ${step}`);
  if (complete) await put(run, `${folder(step)}/trainpod-checkpoint.json`, JSON.stringify({ step }));
}

async function runOf(over: Partial<Prisma.DeploymentUncheckedCreateInput> = {}): Promise<Run> {
  const d = await makeDeployment(h.db.prisma, owner, {
    status: "RUNNING",
    hyperparameters: { steps: 100, checkpoints_kept: 2 },
    ...over,
  });
  const { token } = await mintRunToken(
    { prisma: h.db.prisma, clock: h.clock, config: h.config },
    { deploymentId: d.id },
  );
  return { id: d.id, token };
}

/** A deployment's artifact paths, and whether each file is still on disk (false: its row without its bytes). */
async function files(id: string): Promise<string[]> {
  const rows = await h.db.prisma.artifact.findMany({ where: { deploymentId: id }, orderBy: { path: "asc" } });
  for (const r of rows)
    expect([r.path, existsSync(path.join(h.config.env.ARTIFACT_DIR, r.storageKey))]).toEqual([r.path, true]);
  return rows.map((r) => r.path);
}

const onDisk = (id: string, rel: string) => existsSync(path.join(h.config.env.ARTIFACT_DIR, id, rel));

beforeAll(async () => {
  h = await startTestApi();
  const { user } = await createUserWithKey(h.db.prisma, { email: "chain@example.com" });
  owner = { userId: user.id, datasetId: (await makeDataset(h.db.prisma, user.id)).id };
});
afterAll(async () => {
  await h?.close();
});

describe("checkpoints_kept across a chain of attempts", () => {
  it("the resumed attempt's checkpoints push out the interrupted one's, never its other files", async () => {
    const first = await runOf();
    await put(first, "logs/trainer.log", "step 1\nstep 2\n");
    for (const step of [10, 20, 30]) await checkpoint(first, step);
    await checkpoint(first, 40, false); // its upload was cut by the lost pod
    await put(first, "adapter_model.safetensors", "an adapter saved before the loss");
    // its own last 2 complete ones kept (10 went once 30 was complete); the cut 40 is not complete, so it counts not
    expect(await files(first.id)).toEqual([
      "adapter_model.safetensors",
      `${folder(20)}/adapter_model.safetensors`,
      `${folder(20)}/trainpod-checkpoint.json`,
      `${folder(30)}/adapter_model.safetensors`,
      `${folder(30)}/trainpod-checkpoint.json`,
      `${folder(40)}/adapter_model.safetensors`,
      "logs/trainer.log",
    ]);
    await h.db.prisma.deployment.update({
      where: { id: first.id },
      data: { status: "FAILED", failureReason: "POD_VANISHED", podTerminatedAt: h.clock.now() },
    });

    const second = await runOf({
      attempt: 2,
      resumeOfId: first.id,
      resumedFromStep: 30,
      resumedFromPath: folder(30),
    });
    const resume = await fetch(`${h.url}/v1/runs/${second.id}/resume`, {
      headers: { authorization: `Bearer ${second.token}` },
    });
    expect([resume.status, ((await resume.json()) as { step: number }).step]).toEqual([200, 30]);
    // files uploaded but not complete yet: nothing of the first attempt goes
    await checkpoint(second, 40, false);
    expect(await files(first.id)).toHaveLength(7);

    // its first complete checkpoint: the chain keeps 2, its own 40 and the 30 it started from
    await put(second, `${folder(40)}/trainpod-checkpoint.json`, JSON.stringify({ step: 40 }));
    expect(await files(first.id)).toEqual([
      "adapter_model.safetensors",
      `${folder(30)}/adapter_model.safetensors`,
      `${folder(30)}/trainpod-checkpoint.json`,
      "logs/trainer.log",
    ]);
    expect([
      onDisk(first.id, `${folder(20)}/adapter_model.safetensors`),
      onDisk(first.id, `${folder(40)}/adapter_model.safetensors`),
    ]).toEqual([false, false]);

    // its second: the first attempt holds no checkpoint any more, its adapter and log stay
    await checkpoint(second, 50);
    expect(await files(first.id)).toEqual(["adapter_model.safetensors", "logs/trainer.log"]);
    expect(onDisk(first.id, `${folder(30)}/trainpod-checkpoint.json`)).toBe(false);
    const own = await h.db.prisma.artifact.count({ where: { deploymentId: second.id } });
    expect(own).toBe(4);

    // a third attempt (the second lost before its 60 completed) resumes from the second's 50
    await h.db.prisma.deployment.update({
      where: { id: second.id },
      data: { status: "FAILED", failureReason: "POD_VANISHED", podTerminatedAt: h.clock.now() },
    });
    const third = await runOf({ attempt: 3, resumeOfId: second.id, resumedFromStep: 50, resumedFromPath: folder(50) });
    await checkpoint(third, 60);
    expect(await files(second.id)).toEqual([
      `${folder(50)}/adapter_model.safetensors`,
      `${folder(50)}/trainpod-checkpoint.json`,
    ]);
    await checkpoint(third, 70);
    expect(await files(second.id)).toEqual([]);
    expect(await files(third.id)).toHaveLength(4);
    expect(await files(first.id)).toEqual(["adapter_model.safetensors", "logs/trainer.log"]);
  });

  it("checkpoints_kept 3: the chain holds three, the interrupted attempt's newest among them", async () => {
    const first = await runOf({ hyperparameters: { steps: 100, checkpoints_kept: 3 } });
    for (const step of [10, 20, 30]) await checkpoint(first, step);
    await h.db.prisma.deployment.update({
      where: { id: first.id },
      data: { status: "CANCELLED", podTerminatedAt: h.clock.now() },
    });
    const second = await runOf({
      hyperparameters: { steps: 100, checkpoints_kept: 3 },
      attempt: 2,
      resumeOfId: first.id,
      resumedFromStep: 30,
      resumedFromPath: folder(30),
    });
    await checkpoint(second, 40);
    expect((await files(first.id)).filter((p) => p.endsWith(".json"))).toEqual([
      `${folder(20)}/trainpod-checkpoint.json`,
      `${folder(30)}/trainpod-checkpoint.json`,
    ]);
    await checkpoint(second, 50);
    expect(await files(first.id)).toEqual([
      `${folder(30)}/adapter_model.safetensors`,
      `${folder(30)}/trainpod-checkpoint.json`,
    ]);
  });
});
