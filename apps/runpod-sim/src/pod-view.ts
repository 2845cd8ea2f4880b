/** How a pod is shown: openapi-v2.json's Pod for /v2, more (and no secrets) for /admin. */
import { createHash } from "node:crypto";
import { iso } from "./billing";
import { HOST_CUDA_VERSION } from "./data-centers";
import { allowedActions } from "./pods";
import type { SimPod } from "./pod-store";
import { usdFromMicros } from "./prices";

const date = (t: number | undefined): string | null => (t === undefined ? null : iso(t));

function runtimePorts(pod: SimPod): Array<{ private: number; public: number | null; type: string; ip: string | null }> {
  return pod.input.ports.map((p) => {
    const [port = "0", type = "tcp"] = p.split("/");
    const pub = pod.portMappings?.[port];
    return { private: Number(port), public: pub ?? null, type, ip: pub === undefined ? null : pod.publicIp };
  });
}

export function toApiPod(pod: SimPod, now = Date.now()): Record<string, unknown> {
  const { input } = pod;
  const running = pod.status === "RUNNING";
  const sshUser = `${pod.id}-${pod.apiKey.slice(-8).toLowerCase()}`;
  const direct = pod.portMappings?.["22"];
  return {
    id: pod.id,
    name: input.name,
    status: pod.status,
    actions: allowedActions(pod),
    image: input.image,
    args: input.args,
    disk: input.disk,
    mounts: input.mounts,
    ports: input.ports,
    env: input.env,
    registry: input.registry,
    gpu: { id: pod.gpu.id, count: input.gpuCount },
    cloud: input.cloud,
    dataCenterId: pod.dataCenterId,
    cudaVersion: HOST_CUDA_VERSION,
    ssh: {
      proxy: { host: "ssh.runpod.io", port: 22, username: sshUser, command: `ssh ${sshUser}@ssh.runpod.io` },
      direct:
        running && direct !== undefined && pod.publicIp !== null
          ? { host: pod.publicIp, port: direct, username: "root", command: `ssh root@${pod.publicIp} -p ${direct}` }
          : null,
    },
    template: null,
    // openapi-v2.json: "Current cost in USD per hour (0.0 when EXITED or TERMINATED)"
    cost: pod.status === "EXITED" || pod.status === "TERMINATED" ? 0 : usdFromMicros(pod.costMicrosPerHour),
    locked: false,
    globalNetworking: input.globalNetworking
      ? { enabled: true, ip: `10.${pod.id.length}.0.2`, internalDns: `${pod.id}.runpod.internal` }
      : { enabled: false },
    runtime: running
      ? { uptime: Math.max(0, Math.floor((now - (pod.lastStartedAt ?? now)) / 1000)), ports: runtimePorts(pod) }
      : null,
    createdAt: iso(pod.createdAt),
    startedAt: date(pod.startedAt),
  };
}

/** GET /admin/pods: everything, terminated pods included, with what the pod has cost so far. */
export function toAdminPod(pod: SimPod, now: number): Record<string, unknown> {
  const accruedCostMicros = pod.meter.accruedMicros(now);
  return {
    id: pod.id,
    name: pod.input.name,
    status: pod.status,
    desiredStatus: pod.status === "TERMINATED" ? "TERMINATED" : pod.stopped ? "EXITED" : "RUNNING",
    containerState: pod.state,
    image: pod.input.image,
    gpu: { id: pod.gpu.id, count: pod.input.gpuCount },
    gpuTypeId: pod.gpu.id,
    gpuCount: pod.input.gpuCount,
    cloud: pod.input.cloud,
    dataCenterId: pod.dataCenterId,
    costPerHr: usdFromMicros(pod.costMicrosPerHour),
    accruedCostMicros,
    accruedCostUsd: usdFromMicros(accruedCostMicros),
    billedSeconds: pod.meter.billedSeconds(now),
    restarts: pod.restarts,
    lastExitCode: pod.lastExitCode,
    pid: pod.container?.pid ?? null,
    createdAt: iso(pod.createdAt),
    startedAt: date(pod.startedAt),
    lastStartedAt: date(pod.lastStartedAt),
    terminatedAt: date(pod.terminatedAt),
    disk: pod.input.disk,
    mounts: pod.input.mounts,
    args: pod.input.args,
    command: pod.input.command,
    // /admin has no auth and a pod's env holds users' decrypted secrets: names and each value's sha256 only (a test
    // checks a pod got a value by its hash, never reading the value back)
    envNames: Object.keys(pod.input.env ?? {}).sort(),
    envSha256: envHashes(pod.input.env),
    hasPodApiKey: pod.apiKey !== "",
    workDir: pod.workDir,
    logPath: pod.log.path,
  };
}

function envHashes(env: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env ?? {}).map(([k, v]) => [k, createHash("sha256").update(String(v)).digest("hex")]),
  );
}
