// The deployment's life, one use case per file: the API's verbs and the worker's jobs.
export type { LifecycleDeps, PodLaunch, PodTerminatedInfo } from "./lifecycle-deps";
export { submitDeployment, type SubmitInput, type SubmitResult } from "./submit-deployment";
export { cancelDeployment } from "./cancel-deployment";
export { retryDeployment } from "./retry-deployment";
export { deployDeployment, type DeployOutcome, type RefusedCandidate } from "./deploy-pod";
export { failDeployment, failureDataOf, failureReasonOf } from "./fail-deployment";
export { recordRunEvent, runEventSchema, type RunEvent, type RunEventDeps } from "./record-run-event";
export { monitorTick, type MonitorResult, type MonitorSettings } from "./monitor-tick";
export { reconcile, type ReconcileResult } from "./reconcile-pods";
export { terminateDeployment, type TerminateOutcome } from "./terminate-pod";
export { billPod, type BillingOutcome, type BillingSettings } from "./bill-pod";
