import {
  deployDeployment,
  failDeployment,
  monitorTick,
  billPod,
  failureDataOf,
  failureReasonOf,
  isFinalError,
  reconcile,
  terminateDeployment,
  type LifecycleDeps,
  type MonitorResult,
  type MonitorSettings,
  type ReconcileResult,
} from "@trainpod/core";
import type { Processor, ProcessorMap } from "../processor";
import { webhookProcessors, type WebhookProcessorDeps } from "./webhooks";

export interface ProcessorDeps {
  lifecycle: LifecycleDeps;
  billing: { mismatchThresholdMicros: bigint };
  monitor: MonitorSettings;
  maintenance: () => Promise<unknown>;
  /** webhook deliveries and their scan (issue 33); absent (a test's processors): both jobs do nothing */
  webhooks?: WebhookProcessorDeps;
  /** told each tick's and each reconcile's result (metrics) */
  observe?: { monitor?: (r: MonitorResult) => void; reconcile?: (r: ReconcileResult) => void };
}

const observed =
  <T>(run: () => Promise<T>, observe: ((r: T) => void) | undefined) =>
  async (): Promise<T> => {
    const r = await run();
    observe?.(r);
    return r;
  };

/**
 * A deploy that will not be tried again leaves no QUEUED deployment behind: it fails with a reason. A transient
 * error (a database or Redis blip: not known to be final, core's isFinalError) is thrown for BullMQ to retry
 * with the job's backoff; only the last attempt closes the deployment with it.
 */
const deploy =
  (deps: LifecycleDeps): Processor<"deploy"> =>
  async ({ deploymentId }, { job, logger }) => {
    const attempt = job.attemptsMade + 1;
    try {
      const outcome = await deployDeployment(deps, deploymentId, attempt);
      logger.info("deploy done", { outcome });
      return outcome;
    } catch (err) {
      const final = isFinalError(err) || attempt >= (job.opts.attempts ?? 1);
      if (final) {
        const reason = failureReasonOf(err);
        const message = err instanceof Error ? err.message : String(err);
        if (reason === "INSUFFICIENT_BALANCE") {
          // loud: no run of any user can start until someone tops up the RunPod account
          logger.error("RunPod account balance is too low: no pod can be created until it is topped up", {
            error: message,
          });
        }
        if (await failDeployment(deps, deploymentId, reason, message, { data: failureDataOf(err, reason) }))
          deps.onAction?.("deployment_failed", reason);
      }
      throw err;
    }
  };

const off = async (): Promise<string> => "webhooks not wired";

/** Wires each job name to its use case in core. */
export function createProcessors(deps: ProcessorDeps): ProcessorMap {
  return {
    deploy: deploy(deps.lifecycle),
    terminate: ({ deploymentId, reason }) => terminateDeployment(deps.lifecycle, deploymentId, reason),
    billing: ({ deploymentId }, { job }) =>
      billPod(deps.lifecycle, deploymentId, {
        ...deps.billing,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      }),
    monitor: observed(() => monitorTick(deps.lifecycle, deps.monitor), deps.observe?.monitor),
    reconcile: observed(() => reconcile(deps.lifecycle), deps.observe?.reconcile),
    maintenance: () => deps.maintenance(),
    ...(deps.webhooks ? webhookProcessors(deps.webhooks) : { webhook: off, webhookScan: off }),
  };
}
