import { createUserWithKey, mintRunToken, type Prisma } from "@trainpod/core";
import { makeDataset } from "../factories";
import { insertDeployment, startTestApi, type ApiHarness } from "./api-harness";

/** A running deployment and the run token its pod reports with. */
export interface RunningDeployment {
  id: string;
  token: string;
}

/**
 * What a test of the pod's reports over HTTP needs: the API (startTestApi) with an owner (her API key) and a
 * dataset; running deployments with their run tokens; the pod's POST /v1/runs/:id/events and the owner's
 * GET /v1/deployments/:id. Call it at a test file's top level (it adds the beforeAll and afterAll).
 */
export function useRunEventsApi() {
  let h: ApiHarness;
  let key: string;
  let owner: { userId: string; datasetId: string };
  beforeAll(async () => {
    h = await startTestApi();
    const u = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
    key = u.key;
    owner = { userId: u.user.id, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
  });
  afterAll(async () => {
    await h?.close();
  });
  return {
    get h(): ApiHarness {
      return h;
    },
    /** the owner's API key */
    get key(): string {
      return key;
    },
    /** a RUNNING deployment of the owner's (with `data` besides) and its run token */
    runningDeployment: async (data: Prisma.DeploymentUpdateInput = {}): Promise<RunningDeployment> => {
      const id = await insertDeployment(h, owner.userId, owner.datasetId);
      await h.db.prisma.deployment.update({ where: { id }, data: { status: "RUNNING", ...data } });
      const deps = { prisma: h.db.prisma, clock: h.clock, config: h.config };
      const { token } = await mintRunToken(deps, { deploymentId: id });
      return { id, token };
    },
    /** the pod's report: its status and JSON body */
    post: async (d: RunningDeployment, body: unknown) => {
      const res = await fetch(`${h.url}/v1/runs/${d.id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${d.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    /** the owner's view of the deployment */
    get: async (id: string) =>
      (await fetch(`${h.url}/v1/deployments/${id}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<
        Record<string, unknown>
      >,
  };
}
