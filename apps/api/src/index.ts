export { createApp, type ApiDeps } from "./app";
export { createContainer, type ApiContainer } from "./container";
