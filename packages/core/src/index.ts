export * from "./config";
export * from "./db";
export * from "./errors";
export * from "./jobs";
export * from "./logging";
export * from "./queue";
export * from "./runpod";
export * from "./time/clock";
