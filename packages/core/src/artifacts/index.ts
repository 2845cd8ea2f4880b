export { artifactPath, artifactStorageKey } from "./artifact-path";
export type { ArtifactDeps, ArtifactFile, ArtifactLimits, UploadMode, UploadPlan } from "./deps";
export { artifactDeclarationSchema, reserveArtifact, type ArtifactDeclaration } from "./reserve-artifact";
export {
  artifactUploadUrl,
  completeArtifact,
  completeRequestSchema,
  storeArtifactThroughApi,
  uploadUrlRequestSchema,
} from "./finish-artifact";
export {
  artifactView,
  listArtifacts,
  storedArtifact,
  type ArtifactListView,
  type ArtifactView,
} from "./artifact-queries";
export {
  deleteArtifacts,
  sweepAbandonedUploads,
  sweepArtifactRetention,
  type ArtifactDeletion,
  type DeletedArtifacts,
} from "./delete-artifacts";
export { confineToDeploymentFolders } from "./deployment-folders";
