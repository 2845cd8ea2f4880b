export * from "./cancel";
export * from "./cost";
export * from "./queries";
export * from "./request-schema";
export * from "./state-machine";
export * from "./submit";
export * from "./view";
export * from "./retry";
