/**
 * Billing in integer micro-dollars. A pod's meter is a list of intervals, each with a rate:
 * `compute` (costPerHr, i.e. the GPU price × gpuCount) from creation (or resume) to stop or
 * termination, and `volume` (the pod volume) while it is stopped. Every started second is billed.
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

  /** ms and micro-dollars inside [from, to) (no per-second rounding: used for billing buckets) */
  usageBetween(from: number, to: number, now: number): { computeMs: number; micros: number } {
    let computeMs = 0;
    let total = 0;
    for (const i of this.intervals) {
      const ms = Math.max(0, Math.min(i.end ?? now, to) - Math.max(i.start, from));
      if (ms === 0) continue;
      if (i.kind === "compute") computeMs += ms;
      total += (ms * i.microsPerHour) / 3_600_000;
    }
    return { computeMs, micros: total };
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

export function nextBucket(start: number, size: BucketSize): number {
  const d = new Date(start);
  const [y, m, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
  switch (size) {
    case "hour":
      return Date.UTC(y, m, day, h + 1);
    case "day":
      return Date.UTC(y, m, day + 1);
    case "week":
      return Date.UTC(y, m, day + 7);
    case "month":
      return Date.UTC(y, m + 1, 1);
    case "year":
      return Date.UTC(y + 1, 0, 1);
  }
}

export interface BilledPod {
  id: string;
  gpuTypeId: string | null;
  volumeInGb: number;
  meter: PodMeter;
}

export interface BillingQuery {
  bucketSize: BucketSize;
  grouping: "podId" | "gpuTypeId";
  startTime: number;
  endTime: number;
  podId?: string;
  gpuTypeId?: string;
}

/** GET /billing/pods records (BillingRecords in openapi-v1.json): one per non-empty (bucket, group). */
export function billingRecords(pods: readonly BilledPod[], q: BillingQuery, now: number): Record<string, string | number>[] {
  const records: Record<string, string | number>[] = [];
  const chosen = pods.filter((p) => (q.podId === undefined || p.id === q.podId) && (q.gpuTypeId === undefined || p.gpuTypeId === q.gpuTypeId));
  for (let b = bucketStart(q.startTime, q.bucketSize); b < q.endTime; b = nextBucket(b, q.bucketSize)) {
    const from = Math.max(b, q.startTime);
    const to = Math.min(nextBucket(b, q.bucketSize), q.endTime);
    const groups = new Map<string, { ms: number; micros: number; disk: number }>();
    for (const pod of chosen) {
      const use = pod.meter.usageBetween(from, to, now);
      if (use.micros === 0 && use.computeMs === 0) continue;
      const key = q.grouping === "podId" ? pod.id : (pod.gpuTypeId ?? "CPU");
      const g = groups.get(key) ?? { ms: 0, micros: 0, disk: 0 };
      groups.set(key, { ms: g.ms + use.computeMs, micros: g.micros + use.micros, disk: g.disk + pod.volumeInGb });
    }
    for (const [key, g] of groups) {
      records.push({
        [q.grouping]: key,
        time: new Date(b).toISOString(),
        amount: Math.round(g.micros) / 1e6,
        timeBilledMs: Math.round(g.ms),
        diskSpaceBilledGb: g.disk,
      });
    }
  }
  return records;
}
