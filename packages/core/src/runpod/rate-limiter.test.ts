import { TokenBucket } from "./rate-limiter";

function manualBucket(ratePerSecond: number, burst?: number) {
  let now = 1_000;
  const slept: number[] = [];
  const bucket = new TokenBucket({
    ratePerSecond,
    ...(burst === undefined ? {} : { burst }),
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { bucket, slept, advance: (ms: number) => (now += ms) };
}

describe("TokenBucket", () => {
  it("spaces calls 1/rate apart by default (burst 1)", () => {
    const { bucket } = manualBucket(10);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 100, 200, 300]);
  });

  it("refills with time and never saves more than the burst", () => {
    const { bucket, advance } = manualBucket(10, 3);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 100]);
    advance(100); // repays the borrowed token
    expect(bucket.reserve()).toBe(100);
    advance(10_000); // a long idle time saves only `burst` tokens
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 100]);
  });

  it("lets no more than rate * t + burst calls start in t", () => {
    const { bucket, advance } = manualBucket(5, 2);
    let started = 0;
    const pending: number[] = [];
    for (let t = 0; t < 3_000; t += 10) {
      pending.push(bucket.reserve());
      for (let i = pending.length - 1; i >= 0; i -= 1) {
        if ((pending[i] ?? 0) <= 0) {
          started += 1;
          pending.splice(i, 1);
        } else pending[i] = (pending[i] ?? 0) - 10;
      }
      advance(10);
    }
    expect(started).toBeLessThanOrEqual(5 * 3 + 2);
    expect(started).toBeGreaterThanOrEqual(5 * 3 - 1);
  });

  it("acquire sleeps exactly the reserved wait, and not at all when a token is there", async () => {
    const { bucket, slept } = manualBucket(4);
    await Promise.all([bucket.acquire(), bucket.acquire(), bucket.acquire()]);
    expect(slept).toEqual([250, 500]);
  });

  it("rejects a rate that is not positive", () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(RangeError);
  });
});
