import {
  AppError,
  deployDeployment,
  failDeployment,
  monitorTick,
  NoCapacityError,
  reconcile,
  terminateDeployment,
  type LifecycleDeps,
  type MonitorResult,
  type MonitorSettings,
  type ReconcileResult,
} from "@trainpod/core";
import type { Processor, ProcessorMap } from "../processor";

export interface ProcessorDeps {
  lifecycle: LifecycleDeps;
  monitor: MonitorSettings;
  maintenance: () => Promise<unknown>;
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

/** A deploy that will not be tried again leaves no QUEUED deployment behind: it fails with a reason. */
const deploy =
  (deps: LifecycleDeps): Processor<"deploy"> =>
  async ({ deploymentId }, { job, logger }) => {
    const attempt = job.attemptsMade + 1;
    try {
      const outcome = await deployDeployment(deps, deploymentId, attempt);
      logger.info("deploy done", { outcome });
      return outcome;
    } catch (err) {
      const final = !(err instanceof AppError && err.retryable) || attempt >= (job.opts.attempts ?? 1);
      if (final) {
        const reason = err instanceof NoCapacityError ? "NO_CAPACITY" : err instanceof AppError && err.code.startsWith("RUNPOD_") ? "RUNPOD_API_ERROR" : "INTERNAL_ERROR";
        await failDeployment(deps, deploymentId, reason, err instanceof Error ? err.message : String(err));
      }
      throw err;
    }
  };

/** Wires each job name to its use case in core. */
export function createProcessors(deps: ProcessorDeps): ProcessorMap {
  return {
    deploy: deploy(deps.lifecycle),
    terminate: ({ deploymentId, reason }) => terminateDeployment(deps.lifecycle, deploymentId, reason),
    monitor: observed(() => monitorTick(deps.lifecycle, deps.monitor), deps.observe?.monitor),
    reconcile: observed(() => reconcile(deps.lifecycle), deps.observe?.reconcile),
    maintenance: () => deps.maintenance(),
  };
}
