import type { Config } from "../config";
import type { Deployment, PrismaClient } from "../db";
import { AppError } from "../errors";
import type { Clock } from "../time/clock";
import { mintDatasetToken, mintRunToken } from "./mint-tokens";
import { podUrls } from "./pod-urls";
import { revokeDeploymentTokens } from "./run-token";
import { agentBundle } from "./agent-bundle";
import { heartbeatSeconds, podLaunch, type PodLaunchSpec } from "./start-script";

/** What the deploy and terminate use cases need of a pod's launch: its start (tokens, URLs, script) and its tokens' end. */
export interface PodLauncher {
  /** mints the deployment's tokens and renders its start script */
  buildLaunch(deployment: Deployment): Promise<PodLaunchSpec>;
  /** revokes every token of a deployment (at termination) */
  revokeTokens(deploymentId: string): Promise<void>;
}

export interface PodLauncherDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** token TTLs and the dead-man switch (env), the callbacks' base (publicUrl), the pod's RunPod API (runpod.apiUrl) */
  config: Pick<Config, "env" | "publicUrl" | "runpod">;
  /** the sha256 of the agent the pod fetches and checks (default: agentBundle()'s, the bytes the API serves) */
  agentSha256?: string;
}

/** The pod launch of this configuration: fresh tokens and the start script for each create, tokens revoked at the end. */
export function podLauncher(deps: PodLauncherDeps): PodLauncher {
  const { prisma, clock, config } = deps;
  const env = config.env;
  const agentSha256 = deps.agentSha256 ?? agentBundle().sha256;
  return {
    async buildLaunch(d) {
      await revokeDeploymentTokens(prisma, clock, d.id);
      const tokenDeps = { prisma, clock, config };
      const dataset = await mintDatasetToken(tokenDeps, { deploymentId: d.id });
      const run = await mintRunToken(tokenDeps, { deploymentId: d.id });
      const ds = await prisma.dataset.findUniqueOrThrow({
        where: { id: d.datasetId },
        select: { sha256: true, deletedAt: true },
      });
      // deleted by its owner after this deployment was submitted: fail before any pod is created
      if (ds.deletedAt) throw new AppError("NOT_FOUND", "the deployment's dataset was deleted by its owner");
      const urls = podUrls(config.publicUrl, d.id);
      return podLaunch({
        deploymentId: d.id,
        datasetUrl: dataset.url,
        datasetSha256: ds.sha256,
        runToken: run.token,
        eventsUrl: urls.events,
        artifactsUrl: urls.artifacts,
        baseModel: d.baseModel,
        hyperparameters: d.hyperparameters as Record<string, unknown>,
        agentUrl: urls.agent,
        agentSha256,
        heartbeatSeconds: heartbeatSeconds(env.HEARTBEAT_TIMEOUT_SECONDS),
        selfTerminate: {
          runpodApiUrl: config.runpod.apiUrl,
          graceSeconds: env.POD_SELF_TERMINATE_GRACE_SECONDS,
          maxRuntimeSeconds: d.maxRuntimeMinutes * 60,
          unreachableSeconds: env.POD_SELF_TERMINATE_UNREACHABLE_MINUTES * 60,
        },
      });
    },
    async revokeTokens(id) {
      await revokeDeploymentTokens(prisma, clock, id);
    },
  };
}
