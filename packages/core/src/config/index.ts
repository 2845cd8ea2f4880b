export * from "./config";
export * from "./schema";
