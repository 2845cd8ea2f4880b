export * from "./collectors";
export * from "./metrics";
export * from "./metrics-token";
