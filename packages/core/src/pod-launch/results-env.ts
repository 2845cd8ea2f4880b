import type { Deployment } from "../db";

/**
 * W&B's client, installed on the pod only when the deployment reports to W&B (start.sh installs the pins it is
 * given): trainer/requirements-wandb.txt, its one source (results-env.test.ts checks they agree).
 */
export const WANDB_REQUIREMENT = "wandb==0.31.0";

/** Where a deployment's results go besides trainpod (issue 25): the user's hub repo and W&B project. */
export type ResultTargets = Pick<Deployment, "hubRepo" | "hubMerged" | "wandbProject" | "wandbName">;

/**
 * The pod's env for them (read by the agent's config.py): the hub repo and whether the merged weights go too, the
 * W&B project and run name, and the hub the pod downloads the model from and pushes to (HF_ENDPOINT, an operator's
 * mirror or a test's fake hub; unset: huggingface.co). The user's
 * HF_TOKEN and WANDB_API_KEY reach the pod as secrets, never here.
 */
export function resultsEnv(t: ResultTargets | undefined, hubEndpoint?: string): Record<string, string> {
  return {
    ...(t?.hubRepo ? { TRAINPOD_HUB_REPO: t.hubRepo, TRAINPOD_HUB_MERGED: t.hubMerged ? "1" : "0" } : {}),
    ...(hubEndpoint ? { HF_ENDPOINT: hubEndpoint.replace(/\/+$/, "") } : {}),
    ...(t?.wandbProject ? { TRAINPOD_WANDB_PROJECT: t.wandbProject } : {}),
    ...(t?.wandbProject && t.wandbName ? { TRAINPOD_WANDB_NAME: t.wandbName } : {}),
  };
}

/** The pins the pod installs: the trainer's, and wandb's when the deployment reports to W&B. */
export function trainerRequirements(pins: string, t: ResultTargets | undefined): string {
  return t?.wandbProject ? `${pins} ${WANDB_REQUIREMENT}` : pins;
}
