export { countRow, type RowCount } from "./count";
export { jsonlLines, storedDatasetLines } from "./dataset-lines";
export {
  countDatasetTokens,
  sampleIndices,
  type DatasetTokens,
  type SampleOptions,
  type TokenOptions,
} from "./dataset-tokens";
export { estimateDepsFor } from "./estimate-from-config";
export {
  datasetTokensFor,
  estimateDeployment,
  type DeploymentEstimate,
  type EstimateDeps,
} from "./estimate-deployment";
export {
  measuredOverheadSeconds,
  measuredTokensPerSecond,
  recordTrainThroughput,
  storeEstimate,
  type Measured,
} from "./measured";
export { DEFAULT_CHAT_TEMPLATE, modelChat, readModelFiles, type ModelChat, type ModelFiles } from "./model-files";
export { chatFor, firstOf, hubModelFiles, localModelFiles, type ModelFilesSource } from "./model-source";
export { packedSequences, stepsPerEpoch, trainExamples } from "./packing";
export { droppedToolCall, renderRow, TemplateError, toMessages, type RenderedRow } from "./render";
export {
  chooseThroughput,
  modelSize,
  shapeOf,
  tableOverheadSeconds,
  timeAndCost,
  TRAINER_SHAPE_DEFAULTS,
} from "./run-estimate";
export * from "./throughput";
export { estimateView } from "./estimate-view";
export { estimateErrors } from "./estimate-stats";
