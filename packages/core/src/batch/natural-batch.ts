/**
 * Natural batching (write coalescing): calls made while `maxInFlight` runs are out wait, and the next free run
 * takes all of them (up to `maxBatch`) as one call of `run`. Nothing waits on a timer: with a free run a call
 * starts at once, alone; under load the calls that arrive meanwhile share one statement, one round trip and one
 * commit. The submission's INSERT and its queue add use it (issue 32 item 2, BENCHMARKS.md).
 *
 * When a run of several items fails, each item runs again alone, so one bad item fails only itself (and an
 * outage fails each with its own error).
 */
export interface NaturalBatchOptions {
  /** runs out at once; the calls beyond wait for the next free one */
  maxInFlight: number;
  /** items in one run at most */
  maxBatch: number;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export class NaturalBatcher<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private inFlight = 0;

  /** `run` answers one result per item, in their order */
  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly options: NaturalBatchOptions,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.settle(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async settle(batch: Array<Waiting<T, R>>): Promise<void> {
    let results: R[];
    try {
      results = await this.run(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1) return batch[0]?.reject(err);
      // each alone, within this run's slot: only the item that fails again is refused
      await Promise.all(batch.map((w) => this.settle([w])));
      return;
    }
    if (results.length !== batch.length) {
      const err = new Error(`a batch of ${batch.length} answered ${results.length} results`);
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i] as R));
  }
}
