export interface TtlLruOptions {
  /** how long an entry is trusted */
  ttlMs: number;
  /** entries kept at most */
  maxEntries: number;
  /** the entries' sizes together at most (an entry larger than this is not kept) */
  maxBytes: number;
  /** the clock, in ms (tests move it) */
  nowMs?: () => number;
}

interface Entry<V> {
  value: V;
  bytes: number;
  until: number;
}

/**
 * A bounded cache: each entry lives `ttlMs`, and past `maxEntries` or `maxBytes` the least recently used go first.
 * A Map keeps insertion order; a hit is moved to the end, so the first key is always the least recently used.
 */
export class TtlLru<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private bytes = 0;

  constructor(private readonly o: TtlLruOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    if (hit.until <= this.now()) {
      this.bytes -= hit.bytes;
      return undefined;
    }
    this.entries.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (this.o.ttlMs <= 0 || bytes > this.o.maxBytes) return;
    this.entries.set(key, { value, bytes, until: this.now() + this.o.ttlMs });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.o.maxEntries && this.bytes <= this.o.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.bytes -= old.bytes;
  }

  private now(): number {
    return (this.o.nowMs ?? Date.now)();
  }
}
