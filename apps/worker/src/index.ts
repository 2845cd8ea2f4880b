export { startWorkers, type WorkerRuntime, type WorkerRuntimeDeps } from "./bootstrap";
export { createWorkerContainer, type WorkerContainer } from "./container";
export type { Processor, ProcessorMap, ProcessorContext } from "./processor";
