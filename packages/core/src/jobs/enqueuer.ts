import type { Queues } from "../queue/queues";
import { jobIds } from "./catalog";

/** What use cases need of the queues: add a job whose id makes a duplicate impossible. */
export interface JobEnqueuer {
  deploy(deploymentId: string): Promise<void>;
  terminate(deploymentId: string, reason: string): Promise<void>;
}

export function createJobEnqueuer(queues: Queues): JobEnqueuer {
  return {
    async deploy(deploymentId) {
      await queues.deploy.add("deploy", { deploymentId }, { jobId: jobIds.deploy(deploymentId) });
    },
    async terminate(deploymentId, reason) {
      await queues.terminate.add("terminate", { deploymentId, reason }, { jobId: jobIds.terminate(deploymentId) });
    },
  };
}
