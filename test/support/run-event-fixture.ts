import { ManualClock } from "../../packages/core/src/time/clock";
import { createJobEnqueuer } from "../../packages/core/src/jobs/enqueuer";
import type { DeploymentStatus, Prisma } from "../../packages/core/src/db";
import { makeDataset, makeDeployment, makeUser } from "../factories";
import { useTestDatabase } from "./test-db";
import { openTestQueues, type TestQueues } from "./test-redis";

/**
 * What a test of the pod's events needs: its own database and queues, an owner with a dataset, a manual clock, the
 * deps of recordRunEvent, a podless deployment in a status, and its row and events as stored.
 */
export function useRunEventFixture() {
  const db = useTestDatabase();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let q: TestQueues;
  let owner: { userId: string; datasetId: string };
  beforeAll(async () => {
    q = openTestQueues();
    const { user } = await makeUser(db.prisma);
    owner = { userId: user.id, datasetId: (await makeDataset(db.prisma, user.id)).id };
  });
  afterAll(async () => {
    await q.close();
  });
  return {
    db,
    clock,
    deps: () => ({ prisma: db.prisma, clock, jobs: createJobEnqueuer(q.queues) }),
    deployment: async (
      status: DeploymentStatus = "RUNNING",
      extra: Partial<Prisma.DeploymentUncheckedCreateInput> = {},
    ) => (await makeDeployment(db.prisma, owner, { status, podId: null, ...extra })).id,
    row: (id: string) => db.prisma.deployment.findUniqueOrThrow({ where: { id } }),
    events: async (id: string) =>
      (await db.prisma.deploymentEvent.findMany({ where: { deploymentId: id }, orderBy: { id: "asc" } })).map((e) => ({
        type: e.type,
        data: e.data,
      })),
  };
}
