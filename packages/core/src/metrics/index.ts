export * from "./collectors";
export * from "./metrics";
