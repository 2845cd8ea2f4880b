export * from "./cleanup";
export * from "./dataset-claim";
export * from "./deps";
export * from "./mint";
export * from "./run-token";
