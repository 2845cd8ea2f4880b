// What a pod is started with and calls back with: its tokens, the API's URLs, the start script and the trainer.
export { podLauncher, type PodLauncher, type PodLauncherDeps } from "./pod-launcher";
export {
  loadTrainerSource,
  podLaunch,
  type LaunchInput,
  type PodLaunchSpec,
  type SelfTerminateSettings,
} from "./start-script";
export { datasetDownloadUrl, podUrls, type PodUrls } from "./pod-urls";
export { mintDatasetToken, mintRunToken, type MintedDatasetToken, type MintedRunToken } from "./mint-tokens";
export { revokeDeploymentTokens, verifyRunToken, type RevokedTokens } from "./run-token";
export { claimDatasetToken, markDatasetTokenUsed, releaseDatasetToken, type DatasetClaim } from "./dataset-claim";
export { cleanupExpiredTokens, type CleanupResult } from "./token-cleanup";
export type { TokenDeps } from "./token-deps";
