export * from "./classify";
export * from "./client";
export * from "./errors";
export type { HttpMethod, RunPodCallInfo } from "./http";
export { TokenBucket, type TokenBucketOptions } from "./rate-limiter";
export * from "./rest-client";
export * from "./retry";
export * from "./schemas";
