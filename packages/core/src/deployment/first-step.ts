import type { Deployment } from "../db";

const seconds = (from: Date | null, to: Date | null): number | null =>
  from === null || to === null ? null : Math.max(0, Math.round((to.getTime() - from.getTime()) / 100) / 10);

/**
 * Time to first step (issue 28): from the pod's create (RunPod's createdAt) to the run's first training step, and the
 * part of it before the pod's first report (scheduling, image pull, container start, bootstrap). The rest is the
 * phases the deployment lists (install, dataset_download, model_download, load, tokenize). null until known.
 */
export function firstStepView(d: Pick<Deployment, "podCreatedAt" | "runningAt" | "trainingStartedAt">) {
  return {
    seconds: seconds(d.podCreatedAt, d.trainingStartedAt),
    bootSeconds: seconds(d.podCreatedAt, d.runningAt),
  };
}
