export * from "./jsonl-format";
export * from "./jsonl-validator";
export * from "./queries";
export * from "./upload";
export * from "./delete-dataset";
