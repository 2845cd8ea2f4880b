import type { CloudType } from "../db";
import { costForSeconds } from "../deployment/cost";
import { usdToMicrosExact, type Availability, type GpuType } from "../runpod";

/** One GPU type the deploy job will try to create a pod on, in order. */
export interface GpuCandidate {
  gpuTypeId: string;
  /** the catalog's stock for pods; UNKNOWN when the catalog did not list the type or could not be read */
  availability: Availability | "UNKNOWN";
  /** catalog price of the whole pod (price per GPU × gpuCount), micro-dollars per hour; null when unknown */
  podHourMicros: bigint | null;
}

export interface SkippedCandidate {
  gpuTypeId: string;
  reason: string;
}

export interface CandidateInput {
  gpuTypeIds: string[];
  gpuCount: number;
  cloudType: CloudType;
  maxCostMicros: bigint;
  setupTimeoutMinutes: number;
}

/**
 * v2 places one GPU type per create and never falls back, so trainpod orders the user's types:
 * their priority order, except that types the catalog shows with no stock (NONE) go last (the
 * catalog can be stale: they are still tried). A type whose catalog price would spend the whole
 * budget before the setup timeout is over is skipped: the pre-flight rule, with today's price.
 * Pure: the catalog is read (and cached) by the caller; `null` = not available, keep the order.
 */
export function orderCandidates(
  d: CandidateInput,
  catalog: readonly GpuType[] | null,
): { candidates: GpuCandidate[]; skipped: SkippedCandidate[] } {
  const byId = new Map((catalog ?? []).map((g) => [g.id, g]));
  const candidates: GpuCandidate[] = [];
  const skipped: SkippedCandidate[] = [];
  for (const gpuTypeId of d.gpuTypeIds) {
    const entry = byId.get(gpuTypeId);
    const perGpu =
      entry === undefined
        ? null
        : usdToMicrosExact(d.cloudType === "COMMUNITY" ? entry.price.community : entry.price.secure);
    const podHourMicros = perGpu === null ? null : perGpu * BigInt(d.gpuCount);
    if (
      podHourMicros !== null &&
      podHourMicros > 0n &&
      costForSeconds(podHourMicros, d.setupTimeoutMinutes * 60) > d.maxCostMicros
    ) {
      skipped.push({
        gpuTypeId,
        reason: `its price would spend maxCost within the ${d.setupTimeoutMinutes}-minute setup time`,
      });
      continue;
    }
    candidates.push({ gpuTypeId, availability: entry?.availability ?? "UNKNOWN", podHourMicros });
  }
  const stocked = candidates.filter((c) => c.availability !== "NONE");
  const soldOut = candidates.filter((c) => c.availability === "NONE");
  return { candidates: [...stocked, ...soldOut], skipped };
}
