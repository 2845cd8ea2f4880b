export * from "./blob-storage";
export * from "./keys";
export * from "./local-file-storage";
export * from "./meter";
