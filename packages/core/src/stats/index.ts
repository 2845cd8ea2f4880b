export * from "./params";
export * from "./report";
