export * from "./dataset.factory";
export * from "./deployment.factory";
export * from "./user.factory";
