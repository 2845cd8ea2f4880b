// The deployment model: its states, its request, how it is shown and checked, what it costs, where it is read.
export {
  DEPLOYMENT_STATUSES,
  LIVE_STATUSES,
  TERMINAL_STATUSES,
  isTerminal,
  recordEvent,
  transition,
  updateWithEvent,
  type TransitionInput,
} from "./state-machine";
export { DEFAULT_IMAGE, deploymentRequestSchema, type DeploymentRequest } from "./request-schema";
export {
  assertHyperparameters,
  hyperparametersSchema,
  type Hyperparameters,
  QUANTIZATIONS,
  type Quantization,
  quantizationOf,
  TRAINING_METHODS,
  type TrainingMethod,
  trainingMethod,
  weightBytesPerParameter,
} from "./hyperparameters";
export {
  assertPreflight,
  preflight,
  type PreflightCode,
  type PreflightContext,
  type PreflightProblem,
} from "./preflight";
export { billedSeconds, costForSeconds, podCost } from "./cost";
export { deploymentView, eventView, lastLines } from "./view";
export { MAX_PHASE_TIMES, phaseTimes, phaseView, type PhaseTime, type PhaseView } from "./phase-view";
export { MAX_PROGRESS_POINTS, progressHistory, type ProgressPoint } from "./progress-history";
export { deploymentEvents, getOwnDeployment, listDeployments, listQuerySchema } from "./deployment-queries";
export { adminListQuerySchema, findDeployment, listAllDeployments } from "./admin-queries";
