export * from "./deploy-deployment";
export * from "./deps";
export * from "./monitor-tick";
export * from "./run-events";
export * from "./terminate-deployment";
export * from "./reconcile";
