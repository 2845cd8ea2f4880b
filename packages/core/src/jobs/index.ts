export * from "./catalog";
export * from "./enqueuer";
