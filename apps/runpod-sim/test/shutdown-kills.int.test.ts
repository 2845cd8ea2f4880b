/**
 * Nothing of a pod outlives the simulator: a pod terminated a moment ago is still in its kill grace (SIGTERM sent,
 * SIGKILL on a timer) when the simulator shuts down, and its main process ignores SIGTERM; a process that left the
 * container's process group (its own session, as the pod agent starts the trainer) dies with the container, as
 * Docker's cgroup makes it. Test runs had left such processes behind.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { adminPod, alive, call, podBody, startSim, waitFor, type ApiPod } from "./helpers";

async function pidIn(dir: string, file: string): Promise<number> {
  return waitFor(file, async () => {
    try {
      return Number(readFileSync(path.join(dir, file), "utf8").trim()) || undefined;
    } catch {
      return undefined;
    }
  });
}

it("a shutdown in a pod's kill grace kills its processes at once, one in a session of its own included", async () => {
  const sim = await startSim({ killGraceMs: 60_000 });
  let main = 0;
  let escaped = 0;
  try {
    // the main process ignores SIGTERM; its child starts a session of its own
    const script =
      "trap '' TERM; echo $$ > main.pid; setsid sleep 300 & echo $! > escaped.pid; while :; do sleep 1; done";
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ args: `bash -c "${script}"` }))).body;
    const dir = (await adminPod(sim, pod.id)).workDir as string;
    [main, escaped] = [await pidIn(dir, "main.pid"), await pidIn(dir, "escaped.pid")];
    expect([alive(main), alive(escaped)]).toEqual([true, true]);
    // DELETE answers at once; the container is in its 60 s grace (SIGTERM ignored)
    const deleting = call(sim.api, "DELETE", `/pods/${pod.id}`);
    await waitFor("terminated", async () => (await adminPod(sim, pod.id)).status === "TERMINATED");
    expect(alive(main)).toBe(true);
    await sim.close();
    await deleting.catch(() => undefined);
    await waitFor("every process gone", async () => (!alive(main) && !alive(escaped) ? true : undefined), 5_000);
  } finally {
    for (const pid of [main, escaped]) if (pid && alive(pid)) process.kill(pid, "SIGKILL");
  }
});
