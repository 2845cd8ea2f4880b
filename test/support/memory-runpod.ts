import { randomUUID } from "node:crypto";
import type { CreatePodRequest, Pod, RunPodClient } from "@trainpod/core";

/**
 * RunPod in memory, for use-case tests that need pods to exist and go but no pod process: every create
 * answers a RUNNING pod at once, a delete removes it (404 counts as gone), listings filter by name.
 * Logs and bills are empty; stop is not used by the lifecycle and throws.
 */
export class MemoryRunPod implements RunPodClient {
  readonly pods = new Map<string, Pod>();
  creates = 0;

  createPod(input: CreatePodRequest): Promise<Pod> {
    this.creates += 1;
    const pod: Pod = {
      id: `mem-${randomUUID()}`,
      name: input.name ?? "",
      status: "RUNNING",
      cost: 0.5,
      image: input.image,
      gpu: { id: input.gpu.id, count: input.gpu.count },
      createdAt: new Date().toISOString(),
    };
    this.pods.set(pod.id, pod);
    return Promise.resolve(pod);
  }
  getPod(podId: string): Promise<Pod | null> {
    return Promise.resolve(this.pods.get(podId) ?? null);
  }
  listPods(filter: { namePrefix?: string; name?: string } = {}): Promise<Pod[]> {
    return Promise.resolve(
      [...this.pods.values()].filter(
        (p) =>
          (filter.name === undefined || p.name === filter.name) &&
          (filter.namePrefix === undefined || p.name.startsWith(filter.namePrefix)),
      ),
    );
  }
  stopPod(): Promise<void> {
    return Promise.reject(new Error("MemoryRunPod: stop is not used"));
  }
  terminatePod(podId: string): Promise<{ alreadyGone: boolean }> {
    return Promise.resolve({ alreadyGone: !this.pods.delete(podId) });
  }
  listGpuTypes(): Promise<never[]> {
    return Promise.resolve([]);
  }
  async *podLogs(): AsyncGenerator<never> {}
  recentPodLogs(): Promise<never[]> {
    return Promise.resolve([]);
  }
  podBilling(): Promise<never[]> {
    return Promise.resolve([]);
  }
}
