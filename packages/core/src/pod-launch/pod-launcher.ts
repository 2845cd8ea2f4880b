import type { Config } from "../config";
import type { Deployment, PrismaClient } from "../db";
import { AppError } from "../errors";
import type { Clock } from "../time/clock";
import { mintDatasetToken, mintRunToken } from "./mint-tokens";
import { podUrls } from "./pod-urls";
import { sha256Hex } from "../auth/secret";
import { revokeDeploymentTokens, type LaunchTokens } from "./run-token";
import { agentBundle } from "./agent-bundle";
import { secretsKeyring } from "../secrets/keyring";
import { secretsForPod } from "../secrets/secret-store";
import { DATASET_URL_ENV, heartbeatSeconds, podLaunch, RUN_TOKEN_ENV, type PodLaunchSpec } from "./start-script";

/** What the deploy and terminate use cases need of a pod's launch: its start (tokens, URLs, script) and its tokens' end. */
export interface PodLauncher {
  /**
   * mints a launch's tokens and renders its start script. Earlier launches' tokens stay valid: the pod of a create
   * whose answer was lost may be booting with them, and may still be the one adopted
   */
  buildLaunch(deployment: Deployment): Promise<PodLaunchSpec>;
  /**
   * revokes every token of a deployment (at termination: its pod is gone); with `keep`, all but the tokens of the
   * launch its recorded pod carries (deploy, once the pod is recorded: no other launch's pod can be adopted)
   */
  revokeTokens(deploymentId: string, options?: { keep: LaunchTokens }): Promise<void>;
}

/** The tokens a pod was started with, from its env (RunPod returns it); undefined when it carries no run token. */
export function launchTokensOf(env: Record<string, string> | null | undefined): LaunchTokens | undefined {
  const run = env?.[RUN_TOKEN_ENV];
  if (run === undefined || run === "") return undefined;
  let dataset: string | null = null;
  try {
    dataset = new URL(env?.[DATASET_URL_ENV] ?? "").searchParams.get("token");
  } catch {
    // no dataset URL we can read: only the run token is known
  }
  return { runTokenHash: sha256Hex(run), ...(dataset ? { datasetTokenHash: sha256Hex(dataset) } : {}) };
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
  const keyring = secretsKeyring(config);
  return {
    async buildLaunch(d) {
      // the user's secrets it names, decrypted for this launch only; one deleted since the submission fails it here
      const secrets = await secretsForPod(prisma, keyring, d.userId, d.secretNames);
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
        gpuCount: d.gpuCount,
        agentUrl: urls.agent,
        agentSha256,
        secrets,
        heartbeatSeconds: heartbeatSeconds(env.HEARTBEAT_TIMEOUT_SECONDS),
        results: d,
        resumeFrom: d.resumedFromPath,
        hubEndpoint: env.HF_ENDPOINT,
        selfTerminate: {
          runpodApiUrl: config.runpod.apiUrl,
          graceSeconds: env.POD_SELF_TERMINATE_GRACE_SECONDS,
          maxRuntimeSeconds: d.maxRuntimeMinutes * 60,
          unreachableSeconds: env.POD_SELF_TERMINATE_UNREACHABLE_MINUTES * 60,
        },
      });
    },
    async revokeTokens(id, options) {
      await revokeDeploymentTokens(prisma, clock, id, options?.keep);
    },
  };
}
