/** How a pod is shown: RunPod's Pod schema (openapi-v1.json) for /v1, more for /admin. */
import type { SimPod } from "./pod-store";
import { SPOT_FACTOR, usdFromMicros } from "./prices";

export function toApiPod(pod: SimPod, includeMachine = false): Record<string, unknown> {
  const { input, gpu } = pod;
  const costPerHr = usdFromMicros(pod.costMicrosPerHour);
  const view: Record<string, unknown> = {
    id: pod.id,
    name: input.name,
    consumerUserId: "user_runpodsim",
    desiredStatus: pod.desiredStatus,
    image: input.imageName,
    imageName: input.imageName,
    costPerHr,
    adjustedCostPerHr: costPerHr,
    containerDiskInGb: input.containerDiskInGb,
    volumeInGb: input.volumeInGb,
    volumeMountPath: input.volumeMountPath,
    volumeEncrypted: false,
    dockerEntrypoint: input.dockerEntrypoint,
    dockerStartCmd: input.dockerStartCmd,
    env: input.env,
    ports: input.ports,
    portMappings: pod.portMappings,
    publicIp: pod.publicIp,
    interruptible: input.interruptible,
    locked: input.locked,
    machineId: pod.machineId,
    memoryInGb: Math.max(8, input.gpuCount * 31),
    vcpuCount: gpu === undefined ? input.vcpuCount : input.gpuCount * 8,
    lastStartedAt: pod.lastStartedAt === undefined ? undefined : new Date(pod.lastStartedAt).toISOString(),
    lastStatusChange: pod.lastStatusChange,
    savingsPlans: [],
    slsVersion: 0,
    templateId: input.templateId ?? null,
    networkVolumeId: input.networkVolumeId,
    gpu:
      gpu === undefined
        ? undefined
        : {
            id: gpu.id,
            count: input.gpuCount,
            displayName: gpu.displayName,
            securePrice: gpu.securePrice,
            communityPrice: gpu.communityPrice,
            secureSpotPrice: Math.round(gpu.securePrice * SPOT_FACTOR * 100) / 100,
            communitySpotPrice: Math.round(gpu.communityPrice * SPOT_FACTOR * 100) / 100,
          },
  };
  if (input.computeType === "CPU") view.cpuFlavorId = "cpu3c";
  if (includeMachine) {
    view.machine = {
      gpuTypeId: gpu?.id,
      gpuDisplayName: gpu?.displayName,
      dataCenterId: pod.dataCenterId,
      location: pod.dataCenterId,
      secureCloud: input.cloudType === "SECURE",
      supportPublicIp: true,
      costPerHr,
      currentPricePerGpu: gpu === undefined ? undefined : usdFromMicros(pod.costMicrosPerHour / input.gpuCount),
      minPodGpuCount: 1,
    };
  }
  return JSON.parse(JSON.stringify(view)) as Record<string, unknown>;
}

/** GET /admin/pods: everything, terminated pods included, with what the pod has cost so far. */
export function toAdminPod(pod: SimPod, now: number): Record<string, unknown> {
  const accruedCostMicros = pod.meter.accruedMicros(now);
  return {
    id: pod.id,
    name: pod.input.name,
    desiredStatus: pod.desiredStatus,
    status: pod.state,
    gpuTypeId: pod.gpu?.id ?? null,
    gpuCount: pod.input.gpuCount,
    costPerHr: usdFromMicros(pod.costMicrosPerHour),
    accruedCostMicros,
    accruedCostUsd: usdFromMicros(accruedCostMicros),
    billedSeconds: pod.meter.billedSeconds(now),
    restarts: pod.restarts,
    lastExitCode: pod.lastExitCode,
    pid: pod.container?.pid ?? null,
    createdAt: new Date(pod.createdAt).toISOString(),
    lastStartedAt: pod.lastStartedAt === undefined ? null : new Date(pod.lastStartedAt).toISOString(),
    terminatedAt: pod.terminatedAt === undefined ? null : new Date(pod.terminatedAt).toISOString(),
    command: [...pod.input.dockerEntrypoint, ...pod.input.dockerStartCmd],
    env: pod.input.env,
    workDir: pod.workDir,
    logPath: pod.log.path,
  };
}
