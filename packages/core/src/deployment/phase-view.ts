import type { Deployment, PrismaClient } from "../db";

type PhaseColumns = Pick<
  Deployment,
  "phase" | "phaseState" | "phaseStartedAt" | "phaseDone" | "phaseTotal" | "phaseUnit"
>;

/** The pod's current phase as the deployment shows it; null before its first phase report. */
export function phaseView(d: PhaseColumns) {
  if (d.phase === null) return null;
  return {
    name: d.phase,
    state: d.phaseState,
    done: d.phaseDone === null ? null : Number(d.phaseDone),
    total: d.phaseTotal === null ? null : Number(d.phaseTotal),
    unit: d.phaseUnit,
    startedAt: d.phaseStartedAt,
  };
}
export type PhaseView = ReturnType<typeof phaseView>;

/** One ended phase: its name, the seconds it took, and what its end reported (ok, done, total, unit, extra facts). */
export type PhaseTime = { name: string; seconds: number | null } & Record<string, unknown>;

/** At most this many ended phases are listed (a run has about ten). */
export const MAX_PHASE_TIMES = 100;

/** The time spent in each phase, in their order, from the `phase_ended` rows (each carries its seconds). */
export async function phaseTimes(prisma: PrismaClient, deploymentId: string): Promise<PhaseTime[]> {
  const rows = await prisma.deploymentEvent.findMany({
    where: { deploymentId, type: "phase_ended" },
    orderBy: { id: "asc" },
    take: MAX_PHASE_TIMES,
    select: { data: true },
  });
  return rows.map(({ data }) => {
    const { phase, seconds, ...rest } = (data ?? {}) as Record<string, unknown>;
    return { name: String(phase), seconds: typeof seconds === "number" ? seconds : null, ...rest };
  });
}
