/**
 * Billing in integer micro-dollars. A pod's meter is a list of intervals, each with a rate:
 * `compute` (the pod's price: GPU price × count) from creation (or start) to stop or
 * termination, and `volume` (the pod's persistent mount) while it is stopped. Every started
 * second of an interval is billed (per interval: ceil(ms / 1000) seconds × rate / 3600, rounded).
 */
export type MeterKind = "compute" | "volume";

export interface Interval {
  kind: MeterKind;
  microsPerHour: number;
  start: number;
  end: number | null;
}

const seconds = (ms: number): number => Math.ceil(ms / 1000);
const micros = (ms: number, microsPerHour: number): number => Math.round((seconds(ms) * microsPerHour) / 3600);

export class PodMeter {
  readonly intervals: Interval[] = [];

  open(kind: MeterKind, microsPerHour: number, at: number): void {
    this.close(at);
    this.intervals.push({ kind, microsPerHour, start: at, end: null });
  }

  /** Ends the open interval (if any) at `at`. */
  close(at: number): void {
    const last = this.intervals.at(-1);
    if (last !== undefined && last.end === null) last.end = Math.max(at, last.start);
  }

  billedSeconds(now: number, kind: MeterKind = "compute"): number {
    return this.intervals.filter((i) => i.kind === kind).reduce((sum, i) => sum + seconds((i.end ?? now) - i.start), 0);
  }

  accruedMicros(now: number): number {
    return this.intervals.reduce((sum, i) => sum + micros((i.end ?? now) - i.start, i.microsPerHour), 0);
  }

  /**
   * Micro-dollars (unrounded) per kind for the billed seconds that START inside [from, to) and
   * before `cut` (now minus the billing lag). Summed over a partition of time this is the meter's
   * own figure (before its per-interval rounding): a second is never split across buckets.
   */
  usageBetween(from: number, to: number, cut: number): { compute: number; volume: number; seconds: number } {
    const out = { compute: 0, volume: 0, seconds: 0 };
    for (const i of this.intervals) {
      const n = seconds((i.end ?? cut) - i.start);
      const lo = Math.max(from, i.start);
      const hi = Math.min(to, cut, i.start + n * 1000);
      if (hi <= lo) continue;
      // seconds k with i.start + 1000k in [lo, hi)
      const count = Math.max(0, Math.ceil((hi - i.start) / 1000) - Math.ceil((lo - i.start) / 1000));
      if (count === 0) continue;
      out[i.kind] += (count * i.microsPerHour) / 3600;
      out.seconds += count;
    }
    return out;
  }
}

export type BucketSize = "hour" | "day" | "week" | "month" | "year";
export const BUCKET_SIZES: readonly BucketSize[] = ["hour", "day", "week", "month", "year"];

/** The start of the bucket holding t (UTC; weeks start on Monday). */
export function bucketStart(t: number, size: BucketSize): number {
  const d = new Date(t);
  const [y, m, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
  switch (size) {
    case "hour":
      return Date.UTC(y, m, day, h);
    case "day":
      return Date.UTC(y, m, day);
    case "week":
      return Date.UTC(y, m, day - ((d.getUTCDay() + 6) % 7));
    case "month":
      return Date.UTC(y, m, 1);
    case "year":
      return Date.UTC(y, 0, 1);
  }
}

/** The start of the bucket `n` buckets after the one starting at `start` (n may be negative). */
export function addBuckets(start: number, size: BucketSize, n = 1): number {
  const d = new Date(start);
  const [y, m, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
  switch (size) {
    case "hour":
      return Date.UTC(y, m, day, h + n);
    case "day":
      return Date.UTC(y, m, day + n);
    case "week":
      return Date.UTC(y, m, day + 7 * n);
    case "month":
      return Date.UTC(y, m + n, 1);
    case "year":
      return Date.UTC(y + n, 0, 1);
  }
}

export interface BilledPod {
  id: string;
  meter: PodMeter;
}

export interface PodBillingQuery {
  bucketSize: BucketSize;
  /** already snapped to bucket boundaries */
  startTime: number;
  endTime: number;
  podId?: string;
}

export interface Amounts {
  totalAmount: number;
  gpuAmount: number;
  cpuAmount: number;
  diskAmount: number;
}

const usd = (micros: number): number => Math.round(micros) / 1e6;
const amounts = (gpu: number, disk: number): Amounts => ({
  totalAmount: usd(Math.round(gpu) + Math.round(disk)),
  gpuAmount: usd(gpu),
  cpuAmount: 0,
  diskAmount: usd(disk),
});

/** GET /v2/billing/pods (ListPodBillingResponse): one record per pod per bucket it billed in. */
export function podBilling(
  pods: readonly BilledPod[],
  q: PodBillingQuery,
  cut: number,
): {
  records: Array<Amounts & { startTime: string; endTime: string; podId: string }>;
  metadata: Record<string, unknown>;
} {
  const records: Array<Amounts & { startTime: string; endTime: string; podId: string }> = [];
  const chosen = pods.filter((p) => q.podId === undefined || p.id === q.podId);
  let gpuTotal = 0;
  let diskTotal = 0;
  const podIds = new Set<string>();
  for (let b = q.startTime; b < q.endTime; b = addBuckets(b, q.bucketSize)) {
    const to = addBuckets(b, q.bucketSize);
    for (const pod of chosen) {
      const use = pod.meter.usageBetween(b, to, cut);
      if (use.seconds === 0) continue;
      podIds.add(pod.id);
      gpuTotal += Math.round(use.compute);
      diskTotal += Math.round(use.volume);
      records.push({ startTime: iso(b), endTime: iso(to), podId: pod.id, ...amounts(use.compute, use.volume) });
    }
  }
  return {
    records,
    metadata: {
      query: { startTime: iso(q.startTime), endTime: iso(q.endTime), bucketSize: q.bucketSize, podId: q.podId ?? null },
      recordCount: records.length,
      uniquePodCount: podIds.size,
      totals: amounts(gpuTotal, diskTotal),
    },
  };
}

/** RFC 3339 without milliseconds when they are zero (bucket boundaries): 2026-06-01T00:00:00Z */
export const iso = (t: number): string => new Date(t).toISOString().replace(".000Z", "Z");
