// The OpenAI-compatible API's rules (issue 33): ids, the job request's mapping onto a deployment, and the objects
// (files, jobs, events, checkpoints) and errors in OpenAI's shapes. Pure: the routes (apps/api/src/openai) wire them.
export { eventRowId, OPENAI_ID_PREFIX, openAiId, trainpodId, unixSeconds, type OpenAiIdKind } from "./ids";
export { openAiError, openAiParam, type OpenAiErrorBody } from "./errors";
export {
  BASE_LEARNING_RATE,
  createJobSchema,
  mapCreateJob,
  TRAINPOD_METADATA_KEYS,
  type CreateJobRequest,
  type JobExtras,
  type MappedJob,
} from "./job-request";
export {
  fileObject,
  fineTunedModelName,
  jobObject,
  openAiHyperparameters,
  STATUS_MAP,
  WEBHOOK_EVENT_TYPES,
  type OpenAiJobStatus,
} from "./job-view";
export { checkpointObject, eventObject, LISTED_EVENT_TYPES, type CheckpointInput } from "./events-view";
export { openAiDpoRow, OpenAiRowsStream } from "./dpo-rows";
