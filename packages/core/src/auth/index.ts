export * from "./api-keys";
export * from "./secret";
export * from "./api-key-cache";
export * from "./screen-access";
