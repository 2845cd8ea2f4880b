export * from "./blob-storage";
export * from "./keys";
export * from "./local-file-storage";
export * from "./meter";
export * from "./s3-blob-storage";
export * from "./s3-client";
export * from "./storage-from-config";
