export { checkLine, DATASET_FORMATS, type DatasetFormat, type LineVerdict } from "./jsonl-format";
export { PREFERENCE_FORMATS, preferenceVerdict, type PreferenceFormat } from "./preference-rows";
export {
  JsonlChecker,
  JsonlValidatorStream,
  MAX_BAD_LINES,
  MAX_LINE_BYTES,
  type BadLine,
  type JsonlSummary,
} from "./jsonl-validator";
export { datasetListQuerySchema, datasetView, getOwnDataset, listDatasets, type DatasetView } from "./queries";
export { checkDatasetName, uploadDataset, type UploadDeps, type UploadInput } from "./upload";
export { deleteOwnDataset } from "./delete-dataset";
