/**
 * GPUs free per GPU type. Limits come from the live config (SIM_CAPACITY, PATCH /admin/config)
 * and count GPUs, so a pod with gpuCount 2 takes 2. Stopping or terminating a pod gives its GPUs back.
 */
import type { CapacityConfig } from "./config";

export class Capacity {
  private readonly used = new Map<string, number>();

  constructor(private readonly config: () => CapacityConfig) {}

  limit(gpuTypeId: string): number {
    const { perType, default: fallback } = this.config();
    return perType[gpuTypeId] ?? fallback ?? Number.POSITIVE_INFINITY;
  }

  free(gpuTypeId: string): number {
    return Math.max(0, this.limit(gpuTypeId) - (this.used.get(gpuTypeId) ?? 0));
  }

  acquire(gpuTypeId: string, count: number): boolean {
    if (this.free(gpuTypeId) < count) return false;
    this.used.set(gpuTypeId, (this.used.get(gpuTypeId) ?? 0) + count);
    return true;
  }

  release(gpuTypeId: string, count: number): void {
    this.used.set(gpuTypeId, Math.max(0, (this.used.get(gpuTypeId) ?? 0) - count));
  }

  reset(): void {
    this.used.clear();
  }

  /** For GET /admin/stats: used and limit of every type that has either. */
  snapshot(): Record<string, { used: number; limit: number | null }> {
    const ids = new Set([...this.used.keys(), ...Object.keys(this.config().perType)]);
    const out: Record<string, { used: number; limit: number | null }> = {};
    for (const id of ids) {
      const limit = this.limit(id);
      out[id] = { used: this.used.get(id) ?? 0, limit: Number.isFinite(limit) ? limit : null };
    }
    return out;
  }
}
