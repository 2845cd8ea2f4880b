export { createPrismaClient, pingDatabase, Prisma, PrismaClient, withTimeout, type PrismaOptions } from "./prisma";
// the schema's models and enums (prisma/schema.prisma), as Prisma generates them
export type {
  ApiKey,
  Artifact,
  ArtifactStatus,
  BudgetAction,
  CloudType,
  Dataset,
  DatasetDownloadToken,
  Deployment,
  DeploymentEvent,
  DeploymentStatus,
  FailureReason,
  RunToken,
  User,
  UserLimits,
  UserRole,
} from "./prisma";
export { waitForDatabase, type WaitForDatabaseOptions } from "./wait-for-database";
