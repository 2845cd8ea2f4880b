export { createApp, type ApiDeps } from "./app";
export { createContainer, type ApiContainer, type ApiOverrides } from "./container";
export { startApi, type RunningApi } from "./start-api";
