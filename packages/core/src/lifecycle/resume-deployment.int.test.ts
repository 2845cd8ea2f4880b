import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { checkpointFolder, CHECKPOINT_MANIFEST } from "./resume-checkpoints";
import { resumeDeployment } from "./resume-deployment";

// A resumed attempt is the same run: what the submission decided about it (here, whether the model may share the
// cache volume's HF cache, which the hub pre-flight decided once) carries over, or a resumed 70B run would download
// its weights again into a per-user cache.
const db = useTestDatabase();
const deployed: string[] = [];
const jobs: JobEnqueuer = {
  deploy: async (id) => void deployed.push(id),
  terminate: async () => undefined,
  billing: async () => undefined,
};

async function interrupted(modelShareable: boolean) {
  const { user } = await makeUser(db.prisma);
  const dataset = await makeDataset(db.prisma, user.id);
  const d = await makeDeployment(
    db.prisma,
    { userId: user.id, datasetId: dataset.id },
    {
      status: "FAILED",
      failureReason: "POD_VANISHED",
      podTerminatedAt: new Date(),
      costMicros: 1_000n,
      modelShareable,
      cacheMode: "require",
    },
  );
  await db.prisma.artifact.create({
    data: {
      deploymentId: d.id,
      path: `${checkpointFolder(10)}/${CHECKPOINT_MANIFEST}`,
      storageKey: `k/${d.id}`,
      sizeBytes: 10n,
      sha256: "0".repeat(64),
      status: "STORED",
      uploadedAt: new Date(),
    },
  });
  return d;
}

describe("resumeDeployment", () => {
  it.each([true, false])("keeps the interrupted attempt's modelShareable (%s) and cache mode", async (shareable) => {
    const d = await interrupted(shareable);
    const { deployment, created } = await resumeDeployment({ prisma: db.prisma, jobs }, d.id, "test");
    expect(created).toBe(true);
    expect(deployment).toMatchObject({ resumeOfId: d.id, attempt: 2, resumedFromStep: 10, cacheMode: "require" });
    const stored = await db.prisma.deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    expect(stored.modelShareable).toBe(shareable);
    expect(deployed).toContain(deployment.id);
  });
});
