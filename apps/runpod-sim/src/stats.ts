/**
 * Counts for GET /admin/stats: /v2 calls by "METHOD /v2/route/template status" (status
 * "dropped" for a dropped connection), creates by GPU type and answer status, and quota 429s.
 */
export class CallStats {
  private readonly calls = new Map<string, number>();
  private readonly creates = new Map<string, Record<string, number>>();
  private total = 0;
  rateLimited = 0;

  record(method: string, route: string, status: number | "dropped"): void {
    const key = `${method} ${route} ${status}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    this.total += 1;
  }

  /** A POST /v2/pods that reached the handler; gpuTypeId "(invalid body)" when the body named none. */
  recordCreate(gpuTypeId: string, status: number): void {
    const byStatus = this.creates.get(gpuTypeId) ?? {};
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
    this.creates.set(gpuTypeId, byStatus);
  }

  reset(): void {
    this.calls.clear();
    this.creates.clear();
    this.total = 0;
    this.rateLimited = 0;
  }

  snapshot(): {
    total: number;
    calls: Record<string, number>;
    creates: Record<string, Record<string, number>>;
    rateLimited: number;
  } {
    return {
      total: this.total,
      calls: Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => a.localeCompare(b))),
      creates: Object.fromEntries([...this.creates.entries()].sort(([a], [b]) => a.localeCompare(b))),
      rateLimited: this.rateLimited,
    };
  }
}
