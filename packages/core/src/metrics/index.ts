export { observeWorkerOutcomes, registerDeploymentGauges, registerQueueDepth } from "./collectors";
export {
  createMetrics,
  monitorObserver,
  podTerminatedObserver,
  reconcileObserver,
  runpodCallObserver,
  type Metrics,
} from "./metrics";
export { hasMetricsToken } from "./metrics-token";
