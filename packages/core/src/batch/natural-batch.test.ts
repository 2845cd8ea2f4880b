import { NaturalBatcher } from "./natural-batch";

/** A run whose calls the test ends by hand: what the batcher handed it, and the ends of each call. */
function manualRun() {
  const calls: Array<{ items: number[]; end(): void; fail(err: Error): void }> = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        items,
        end: () => resolve(items.map((i) => `r${i}`)),
        fail: (err) => reject(err),
      });
    });
  return { calls, run };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("NaturalBatcher", () => {
  it("starts a call at once while a run is free, and gives the calls made meanwhile to the next free run", async () => {
    const { calls, run } = manualRun();
    const batcher = new NaturalBatcher(run, { maxInFlight: 2, maxBatch: 10 });
    const answers = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    calls[0]?.end();
    await flush();
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3, 4, 5]]);
    calls[1]?.end();
    calls[2]?.end();
    expect(await Promise.all(answers)).toEqual(["r1", "r2", "r3", "r4", "r5"]);
  });

  it("takes at most maxBatch items into one run", async () => {
    const { calls, run } = manualRun();
    const batcher = new NaturalBatcher(run, { maxInFlight: 1, maxBatch: 3 });
    const answers = [1, 2, 3, 4, 5, 6, 7].map((i) => batcher.submit(i));
    calls[0]?.end();
    await flush();
    calls[1]?.end();
    await flush();
    calls[2]?.end();
    expect(await Promise.all(answers)).toHaveLength(7);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
  });

  it("runs each item of a failed batch again alone: only the item that fails again is refused", async () => {
    const seen: number[][] = [];
    const batcher = new NaturalBatcher(
      async (items: number[]) => {
        seen.push(items);
        await flush();
        if (items.includes(3)) throw new Error(`item 3 is bad (batch of ${items.length})`);
        return items.map((i) => i * 10);
      },
      { maxInFlight: 1, maxBatch: 10 },
    );
    const answers = [1, 2, 3, 4].map((i) => batcher.submit(i).catch((err: Error) => err.message));
    expect(await Promise.all(answers)).toEqual([10, 20, "item 3 is bad (batch of 1)", 40]);
    expect(seen).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
  });

  it("refuses every item of a run that answers the wrong number of results", async () => {
    const batcher = new NaturalBatcher(async () => ["only one"], { maxInFlight: 1, maxBatch: 10 });
    await expect(batcher.submit(1)).resolves.toBe("only one");
    const first = batcher.submit(1);
    const [a, b] = [batcher.submit(2), batcher.submit(3)].map((p) => p.catch((err: Error) => err.message));
    await first;
    expect(await Promise.all([a, b])).toEqual(["a batch of 2 answered 1 results", "a batch of 2 answered 1 results"]);
  });
});
