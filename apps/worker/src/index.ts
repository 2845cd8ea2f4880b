export { startWorkers, type WorkerRuntime, type WorkerRuntimeDeps } from "./bootstrap";
export { createWorkerContainer, type WorkerContainer, type WorkerContainerOverrides } from "./container";
export { startWorker, type RunningWorker, type WorkerOverrides } from "./start-worker";
export type { ProcessorDeps } from "./processors";
export type { Processor, ProcessorMap, ProcessorContext } from "./processor";
export { processorDeps } from "./wiring";
