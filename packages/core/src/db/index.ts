export * from "./prisma";
export * from "./wait-for-database";
