import type { PrismaClient } from "../db";

/** One kept `progress` row: a training step, its loss and, on an evaluated step, its eval loss; DPO's reward margin. */
export interface ProgressPoint {
  /** the row's event id (a client resumes the timeline stream after the highest) */
  id: string;
  step: number;
  loss: number | null;
  evalLoss: number | null;
  /** DPO's reward margin (issue 26 item 5), on a DPO run's steps only */
  rewardMargin?: number;
  /** the step's learning rate, when the trainer logged it */
  learningRate?: number;
  at: Date;
}

/** Rows read at most: about 1,000 a run are kept (progress-sampling.ts), a few dozen eval steps more. */
export const MAX_PROGRESS_POINTS = 5_000;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * A deployment's loss curve as stored: its `progress` rows in step order (downsampled past the first steps,
 * every evaluated step kept). The steps since the last kept row come over the timeline stream's `live` frames.
 */
export async function progressHistory(prisma: PrismaClient, deploymentId: string): Promise<ProgressPoint[]> {
  const rows = await prisma.deploymentEvent.findMany({
    where: { deploymentId, type: "progress" },
    orderBy: { id: "asc" },
    take: MAX_PROGRESS_POINTS,
    select: { id: true, data: true, createdAt: true },
  });
  const points: ProgressPoint[] = [];
  for (const r of rows) {
    const data = (r.data ?? {}) as Record<string, unknown>;
    const step = num(data.step);
    if (step === null) continue;
    const margin = num(data.rewardMargin);
    const lr = num(data.learningRate);
    points.push({
      id: r.id.toString(),
      step,
      loss: num(data.loss),
      evalLoss: num(data.evalLoss),
      ...(margin === null ? {} : { rewardMargin: margin }),
      ...(lr === null ? {} : { learningRate: lr }),
      at: r.createdAt,
    });
  }
  return points.sort((a, b) => a.step - b.step);
}
