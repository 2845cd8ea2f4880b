// The deployment's life, one use case per file: the API's verbs and the worker's jobs.
export type { LifecycleDeps, PodLaunch, PodTerminatedInfo } from "./lifecycle-deps";
export { parseDeploymentRequest, submitDeployment, type SubmitInput, type SubmitResult } from "./submit-deployment";
export { cancelDeployment } from "./cancel-deployment";
export { retryDeployment } from "./retry-deployment";
export { deployDeployment, type DeployOutcome, type RefusedCandidate } from "./deploy-pod";
export { failDeployment, failureDataOf, failureReasonOf, isFinalError } from "./fail-deployment";
export { recordRunEvent, runEventSchema, type RunEvent, type RunEventDeps } from "./record-run-event";
export { MAX_LOG_EVENTS, type RunEventResult } from "./record-run-event";
export { FAILURE_CAUSES, PHASE_STATES, PHASE_UNITS, RUN_PHASES, type RunPhase } from "./run-event-schema";
export { keepProgressRow, progressStride, PROGRESS_ROWS_FULL, PROGRESS_ROWS_TARGET } from "./progress-sampling";
export { monitorTick, type MonitorResult, type MonitorSettings } from "./monitor-tick";
export { reconcile, type ReconcileResult } from "./reconcile-pods";
export { terminateDeployment, type TerminateOutcome } from "./terminate-pod";
export { billPod, type BillingOutcome, type BillingSettings } from "./bill-pod";
// interrupted runs resume from their last checkpoint (issue 27): resume-*.ts
export { resumeDeployment, resumeAfterPodLoss, resumeKey, type ResumeDeps } from "./resume-deployment";
export { autoResumeVerdict, savedMicros, POD_FAILURES, RESUMABLE_STATUSES } from "./resume-rules";
export {
  listCheckpoints,
  latestCheckpointOfChain,
  checkpointFilesOfChain,
  checkpointManifestStep,
  checkpointFolder,
  checkpointsKept,
  pruneCheckpoints,
  type CheckpointView,
} from "./resume-checkpoints";
export { resumeView, attemptsView, attemptChain, type AttemptView, type AttemptsView } from "./resume-view";
