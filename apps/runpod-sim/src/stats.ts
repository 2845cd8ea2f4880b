/** Counts of /v1 calls by "METHOD route status" (status "dropped" for a dropped connection). */
export class CallStats {
  private readonly calls = new Map<string, number>();
  private total = 0;

  record(method: string, route: string, status: number | "dropped"): void {
    const key = `${method} ${route} ${status}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    this.total += 1;
  }

  reset(): void {
    this.calls.clear();
    this.total = 0;
  }

  snapshot(): { total: number; calls: Record<string, number> } {
    return { total: this.total, calls: Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => a.localeCompare(b))) };
  }
}
