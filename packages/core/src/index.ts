export * from "./errors";
export * from "./logging";
export * from "./time/clock";
