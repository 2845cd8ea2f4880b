/** What the chaos run does to the simulator's pods behind trainpod's back, through RunPod's own v2 API. */
import { randomUUID } from "node:crypto";
import type { ChaosSystem } from "./system";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = { "content-type": "application/json" };

/**
 * Pods named like ours whose deployment never recorded them (a lost database write): reconcile must
 * end them. Planted before any submission, so every pod with our prefix is one: counted from the
 * sim's admin view, since a 500 may be a createThenFail (pod created) or a serverError (none).
 */
export async function plantOrphans(sys: ChaosSystem, n: number): Promise<void> {
  const planted = async () =>
    ((await (await sys.sim.admin("/admin/pods")).json()) as Array<{ name: string }>).filter((p) =>
      p.name.startsWith(sys.podNamePrefix),
    ).length;
  while ((await planted()) < n) {
    const res = await fetch(`${sys.sim.apiUrl}/pods`, {
      method: "POST",
      headers: { ...json, authorization: "Bearer planted" },
      body: JSON.stringify({
        name: `${sys.podNamePrefix}${randomUUID()}`,
        image: "img",
        gpu: { id: "NVIDIA A40", count: 1 },
      }),
    }).catch(() => null);
    if (res?.status !== 201) await sleep(100);
  }
}

/** DELETE /v2/pods/{id}, retried through faults: 204, or 404 once an earlier (dropped) attempt landed. */
async function deletePod(sys: ChaosSystem, podId: string): Promise<void> {
  for (let tries = 0; tries < 50; tries += 1) {
    const res = await fetch(`${sys.sim.apiUrl}/pods/${podId}`, {
      method: "DELETE",
      headers: { authorization: "Bearer vanish" },
    }).catch(() => null);
    if (res && (res.status === 204 || res.status === 404)) return;
    await sleep(100);
  }
}

/**
 * Deletes the pods of `n` of the long-running deployments (`longIds`: they train for ~15 s) once
 * they run: each must end FAILED / POD_VANISHED.
 */
export async function vanishPods(
  sys: ChaosSystem,
  longIds: string[],
  n: number,
  done: () => boolean,
): Promise<string[]> {
  const victims: string[] = [];
  while (victims.length < n && !done()) {
    const running = await sys.db.prisma.deployment.findMany({
      where: { id: { in: longIds.slice(0, n) }, status: "RUNNING" },
      select: { id: true, podId: true },
    });
    for (const d of running) {
      if (victims.includes(d.id) || !d.podId) continue;
      await deletePod(sys, d.podId);
      victims.push(d.id);
    }
    await sleep(300);
  }
  return victims;
}
