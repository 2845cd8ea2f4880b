import {
  AppError,
  cleanupExpiredTokens,
  loadTrainerSource,
  mintDatasetToken,
  mintRunToken,
  podLaunch,
  monitorObserver,
  podTerminatedObserver,
  reconcileObserver,
  revokeDeploymentTokens,
  spendSettingsFromEnv,
  sweepAbandonedUploads,
  sweepArtifactRetention,
  type LifecycleDeps,
} from "@trainpod/core";
import type { WorkerContainer } from "./container";
import type { ProcessorDeps } from "./processors";

/** Builds the processors' dependencies: the lifecycle use cases, with tokens and the start script. */
export function processorDeps(c: WorkerContainer): ProcessorDeps {
  const env = c.config.env;
  const trainerSource = loadTrainerSource();
  const lifecycle: LifecycleDeps = {
    prisma: c.prisma,
    runpod: c.runpod,
    clock: c.clock,
    jobs: c.jobs,
    logger: c.logger,
    podNamePrefix: env.POD_NAME_PREFIX,
    noCapacityMaxWaitMs: env.NO_CAPACITY_MAX_WAIT_MINUTES * 60_000,
    gpuCatalog: (query) => c.gpuCatalog.get(query),
    onAction: (action, reason) => c.metrics.lifecycleActions.inc({ action, reason }),
    async buildLaunch(d) {
      await revokeDeploymentTokens(c.prisma, c.clock, d.id);
      const tokenDeps = { prisma: c.prisma, clock: c.clock, config: c.config };
      const dataset = await mintDatasetToken(tokenDeps, { deploymentId: d.id });
      const run = await mintRunToken(tokenDeps, { deploymentId: d.id });
      const ds = await c.prisma.dataset.findUniqueOrThrow({ where: { id: d.datasetId }, select: { sha256: true, deletedAt: true } });
      // deleted by its owner after this deployment was submitted: fail before any pod is created
      if (ds.deletedAt) throw new AppError("NOT_FOUND", "the deployment's dataset was deleted by its owner");
      const base = `${c.config.publicUrl}/v1/runs/${d.id}`;
      return podLaunch({
        deploymentId: d.id,
        datasetUrl: dataset.url,
        datasetSha256: ds.sha256,
        runToken: run.token,
        eventsUrl: `${base}/events`,
        artifactsUrl: `${base}/artifacts`,
        baseModel: d.baseModel,
        hyperparameters: d.hyperparameters as Record<string, unknown>,
        trainerSource,
        selfTerminate: {
          runpodApiUrl: c.config.runpod.apiUrl,
          graceSeconds: env.POD_SELF_TERMINATE_GRACE_SECONDS,
          maxRuntimeSeconds: d.maxRuntimeMinutes * 60,
          unreachableSeconds: env.POD_SELF_TERMINATE_UNREACHABLE_MINUTES * 60,
        },
      });
    },
    revokeTokens: async (id) => {
      await revokeDeploymentTokens(c.prisma, c.clock, id);
    },
    onPodTerminated: podTerminatedObserver(c.metrics),
    spend: spendSettingsFromEnv(env),
  };
  return {
    lifecycle,
    billing: { mismatchThresholdMicros: BigInt(env.BILLING_MISMATCH_THRESHOLD_MICROS) },
    monitor: { heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_SECONDS * 1000, requeueAfterMs: env.QUEUED_REQUEUE_AFTER_MS, terminateSweepAfterMs: env.TERMINATE_SWEEP_AFTER_MS },
    observe: { monitor: monitorObserver(c.metrics), reconcile: reconcileObserver(c.metrics) },
    maintenance: async () => {
      const tokens = await cleanupExpiredTokens(c.prisma, c.clock, { olderThan: new Date(c.clock.now().getTime() - 24 * 3600_000) });
      const storage = { prisma: c.prisma, clock: c.clock, storage: c.artifactStorage };
      const artifacts = await sweepArtifactRetention(storage, env.ARTIFACT_RETENTION_DAYS);
      if (artifacts.deployments > 0) c.logger.info("artifacts deleted after the retention period", { ...artifacts, retentionDays: env.ARTIFACT_RETENTION_DAYS });
      // a day after its deployment closed, an upload still in progress never will be
      const abandonedUploads = await sweepAbandonedUploads(storage, 24 * 3600_000);
      return { tokens, artifacts, abandonedUploads };
    },
  };
}
