import type { PrismaClient } from "@trainpod/core";

/**
 * Inserts a deployment event in a transaction that takes its id now and commits only when `commit()`
 * is called: an event with a smaller id that becomes visible after larger ones were read.
 */
export async function heldEvent(
  prisma: PrismaClient,
  deploymentId: string,
  type: string,
): Promise<{ commit(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let inserted!: () => void;
  const hasId = new Promise<void>((r) => (inserted = r));
  const tx = prisma.$transaction(async (t) => {
    await t.deploymentEvent.create({ data: { deploymentId, type } });
    inserted();
    await held;
  });
  await hasId;
  return {
    async commit() {
      release();
      await tx;
    },
  };
}
