// What a pod is started with and calls back with: its tokens, the API's URLs, the start script and the agent it runs.
export { launchTokensOf, podLauncher, type PodLauncher, type PodLauncherDeps } from "./pod-launcher";
export { podLaunch, type LaunchInput, type PodLaunchSpec, type SelfTerminateSettings } from "./start-script";
export { datasetDownloadUrl, podUrls, type PodUrls } from "./pod-urls";
export { agentBundle, buildAgentBundle, type AgentBundle } from "./agent-bundle";
export { mintDatasetToken, mintRunToken, type MintedDatasetToken, type MintedRunToken } from "./mint-tokens";
export { revokeDeploymentTokens, verifyRunToken, type LaunchTokens, type RevokedTokens } from "./run-token";
export { claimDatasetToken, markDatasetTokenUsed, releaseDatasetToken, type DatasetClaim } from "./dataset-claim";
export { reissueDatasetUrl, type DatasetUrlDeps, type ReissuedDatasetUrl } from "./dataset-url";
export { cleanupExpiredTokens, type CleanupResult } from "./token-cleanup";
export type { TokenDeps } from "./token-deps";
