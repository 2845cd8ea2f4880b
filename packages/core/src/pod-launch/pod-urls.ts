/** The API's URLs a pod calls back, all under Config.publicUrl. */
export interface PodUrls {
  /** POST: progress, logs and the outcome (the run token authenticates) */
  events: string;
  /** POST: declared files, their upload URLs, their completion (the run token authenticates) */
  artifacts: string;
  /** GET: the agent's zipapp, which the pod's bootstrap (start.sh) runs (the run token authenticates) */
  agent: string;
}

/** Where a deployment's pod reports and uploads: `${publicUrl}/v1/runs/${deploymentId}/…`. */
export function podUrls(publicUrl: string, deploymentId: string): PodUrls {
  const base = `${publicUrl}/v1/runs/${deploymentId}`;
  return { events: `${base}/events`, artifacts: `${base}/artifacts`, agent: `${base}/agent` };
}

/** The single-use download URL of a deployment's dataset: the token is the credential. */
export function datasetDownloadUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/v1/datasets/download?token=${encodeURIComponent(token)}`;
}
