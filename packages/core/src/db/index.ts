export * from "./prisma";
