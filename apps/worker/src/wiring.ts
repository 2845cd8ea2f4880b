import {
  cleanupExpiredTokens,
  monitorObserver,
  podLauncher,
  podTerminatedObserver,
  reconcileObserver,
  secretsKeyring,
  webhookPolicyFromConfig,
  spendSettingsFromEnv,
  sweepAbandonedUploads,
  sweepArtifactRetention,
  type LifecycleDeps,
} from "@trainpod/core";
import type { WorkerContainer } from "./container";
import type { ProcessorDeps } from "./processors";
import { WEBHOOK_SCAN_WINDOW_MS } from "./processors/webhooks";

/** Builds the processors' dependencies: the lifecycle use cases, with tokens and the start script. */
export function processorDeps(c: WorkerContainer): ProcessorDeps {
  const env = c.config.env;
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
    ...podLauncher({ prisma: c.prisma, clock: c.clock, config: c.config }),
    onPodTerminated: podTerminatedObserver(c.metrics),
    spend: spendSettingsFromEnv(env),
    cache: c.cache,
  };
  return {
    lifecycle,
    billing: { mismatchThresholdMicros: BigInt(env.BILLING_MISMATCH_THRESHOLD_MICROS) },
    monitor: {
      heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_SECONDS * 1000,
      stallTimeoutMs: env.STALL_TIMEOUT_SECONDS * 1000,
      requeueAfterMs: env.QUEUED_REQUEUE_AFTER_MS,
      terminateSweepAfterMs: env.TERMINATE_SWEEP_AFTER_MS,
      vanishGraceMs: env.POD_VANISH_GRACE_SECONDS * 1000,
    },
    observe: { monitor: monitorObserver(c.metrics), reconcile: reconcileObserver(c.metrics) },
    webhooks: {
      delivery: {
        prisma: c.prisma,
        clock: c.clock,
        keyring: secretsKeyring(c.config),
        policy: webhookPolicyFromConfig(c.config),
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
        logger: c.logger,
      },
      queue: c.queues.webhook,
      retryDelayMs: env.WEBHOOK_RETRY_DELAY_MS,
      windowMs: WEBHOOK_SCAN_WINDOW_MS,
    },
    maintenance: async () => {
      const tokens = await cleanupExpiredTokens(c.prisma, c.clock, {
        olderThan: new Date(c.clock.now().getTime() - 24 * 3600_000),
      });
      const storage = { prisma: c.prisma, clock: c.clock, storage: c.artifactStorage };
      const artifacts = await sweepArtifactRetention(storage, env.ARTIFACT_RETENTION_DAYS);
      if (artifacts.deployments > 0)
        c.logger.info("artifacts deleted after the retention period", {
          ...artifacts,
          retentionDays: env.ARTIFACT_RETENTION_DAYS,
        });
      // a day after its deployment closed, an upload still in progress never will be
      const abandonedUploads = await sweepAbandonedUploads(storage, 24 * 3600_000);
      return { tokens, artifacts, abandonedUploads };
    },
  };
}
