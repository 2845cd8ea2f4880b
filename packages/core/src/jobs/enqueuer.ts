import type { Queue } from "bullmq";
import { NaturalBatcher } from "../batch/natural-batch";
import type { Queues } from "../queue/queues";
import { jobIds } from "./catalog";

export interface EnqueueOptions {
  /**
   * For the sweeps that enqueue again (monitor, reconcile): a job with this id that already ended
   * (failed after its attempts, or failed as stalled after a worker was killed twice, or completed
   * without closing the deployment) would make the add a silent no-op and the work would be lost.
   * With `revive` such a job is run again.
   */
  revive?: boolean;
}

/** What use cases need of the queues: add a job whose id makes a duplicate impossible. */
export interface JobEnqueuer {
  deploy(deploymentId: string, options?: EnqueueOptions): Promise<void>;
  terminate(deploymentId: string, reason: string, options?: EnqueueOptions): Promise<void>;
  /** reads RunPod's bill of a closed deployment's pod, after BILLING_DELAY_MS (billing lags) */
  billing(deploymentId: string): Promise<void>;
  /**
   * Is the deployment's deploy job being run by a worker now (a create of its pod may be out)? Absent (a test's
   * enqueuer that runs no deploy job): none is.
   */
  deployRunning?(deploymentId: string): Promise<boolean>;
}

/** When the billing job first runs after a pod's termination, and how its retries back off. */
export interface BillingTiming {
  delayMs: number;
  retryDelayMs: number;
}

export const DEFAULT_BILLING_TIMING: BillingTiming = { delayMs: 10 * 60_000, retryDelayMs: 5 * 60_000 };

async function addOnce(
  queue: Queue,
  name: string,
  data: Record<string, unknown>,
  jobId: string,
  options: EnqueueOptions = {},
): Promise<void> {
  if (options.revive) {
    const state = await queue.getJobState(jobId);
    if (state === "failed") {
      const job = await queue.getJob(jobId);
      if (job) await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      return;
    }
    if (state === "completed") await queue.remove(jobId);
  }
  await queue.add(name, data, { jobId });
}

/**
 * Deploy jobs added while earlier adds are out go to Redis together (one addBulk: one round trip, each job still
 * added by BullMQ's own script, a duplicate id still a no-op): the submission's hot path (issue 32 item 2).
 */
function deployAdds(queue: Queue): NaturalBatcher<string, void> {
  return new NaturalBatcher(
    async (deploymentIds: string[]) => {
      const [only] = deploymentIds;
      // one alone is a plain add (BullMQ's pipeline for a bulk costs more than one add)
      if (deploymentIds.length === 1 && only !== undefined)
        await queue.add("deploy", { deploymentId: only }, { jobId: jobIds.deploy(only) });
      else
        await queue.addBulk(
          deploymentIds.map((deploymentId) => ({
            name: "deploy",
            data: { deploymentId },
            opts: { jobId: jobIds.deploy(deploymentId) },
          })),
        );
      return deploymentIds.map(() => undefined);
    },
    // one out at a time: an add is one quick round trip, and the adds that arrive meanwhile go together
    { maxInFlight: 1, maxBatch: 100 },
  );
}

export function createJobEnqueuer(queues: Queues, billing: BillingTiming = DEFAULT_BILLING_TIMING): JobEnqueuer {
  const deploys = deployAdds(queues.deploy);
  return {
    billing: async (deploymentId) => {
      await queues.billing.add(
        "billing",
        { deploymentId },
        {
          jobId: jobIds.billing(deploymentId),
          delay: billing.delayMs,
          backoff: { type: "exponential", delay: billing.retryDelayMs, jitter: 0.2 },
        },
      );
    },
    deployRunning: async (deploymentId) => (await queues.deploy.getJobState(jobIds.deploy(deploymentId))) === "active",
    deploy: (deploymentId, options) =>
      options?.revive
        ? addOnce(queues.deploy, "deploy", { deploymentId }, jobIds.deploy(deploymentId), options)
        : deploys.submit(deploymentId),
    terminate: (deploymentId, reason, options) =>
      addOnce(queues.terminate, "terminate", { deploymentId, reason }, jobIds.terminate(deploymentId), options),
  };
}
