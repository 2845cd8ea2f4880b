import type { ProcessorMap } from "../processor";
import type { WorkerContainer } from "../container";

/** Wires each job name to its use case in core. */
export function createProcessors(_c: WorkerContainer): ProcessorMap {
  const pending = async (): Promise<string> => "not implemented yet";
  return { deploy: pending, terminate: pending, monitor: pending, reconcile: pending, maintenance: pending };
}
