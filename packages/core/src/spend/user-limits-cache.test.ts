import type { PrismaClient, UserLimits } from "../db";
import { ManualClock } from "../time/clock";
import type { SpendSettings } from "./settings";
import { UserLimitsCache } from "./user-limits-cache";

const settings: SpendSettings = {
  monthlyBudgetMicros: 0n,
  onExceed: "block",
  maxLiveDeployments: 0,
  maxGpus: 0,
  allowedImages: ["runpod/*"],
  caps: { maxGpuCount: 8, maxRuntimeMinutes: 600, maxCostMicros: 1_000_000_000n },
};

/** The UserLimits table as one row a test changes; every read is counted and may be held until released. */
function table() {
  const t = {
    row: null as UserLimits | null,
    reads: 0,
    hold: null as Promise<void> | null,
    prisma: {} as Pick<PrismaClient, "userLimits">,
  };
  t.prisma = {
    userLimits: {
      findUnique: async () => {
        t.reads += 1;
        const row = t.row;
        if (t.hold) await t.hold;
        return row;
      },
    },
  } as unknown as Pick<PrismaClient, "userLimits">;
  return t;
}
const budget = (micros: bigint) => ({ userId: "u", monthlyBudgetMicros: micros }) as UserLimits;

describe("UserLimitsCache", () => {
  it("answers a read from memory for ttlMs, then reads the table again", async () => {
    const t = table();
    const clock = new ManualClock();
    const cache = new UserLimitsCache(t.prisma, settings, clock, { ttlMs: 5_000 });
    t.row = budget(5n);
    expect((await cache.get("u")).monthlyBudgetMicros).toBe(5n);
    t.row = budget(7n);
    clock.advance(4_999);
    expect((await cache.get("u")).monthlyBudgetMicros).toBe(5n);
    expect(t.reads).toBe(1);
    clock.advance(1);
    expect((await cache.get("u")).monthlyBudgetMicros).toBe(7n);
    expect(t.reads).toBe(2);
  });

  it("drop(): the next read goes to the table; a read begun before the drop is answered but not kept", async () => {
    const t = table();
    const cache = new UserLimitsCache(t.prisma, settings, new ManualClock(), { ttlMs: 5_000 });
    t.row = budget(5n);
    await cache.get("u");
    t.row = budget(7n);
    cache.drop("u");
    expect((await cache.get("u")).monthlyBudgetMicros).toBe(7n);
    // a read of the old row in flight while the admin's change lands and drops the entry
    cache.drop("u");
    let release = () => undefined as void;
    t.hold = new Promise<void>((r) => (release = r));
    const inFlight = cache.get("u");
    t.row = budget(9n);
    cache.drop("u");
    t.hold = null;
    release();
    expect((await inFlight).monthlyBudgetMicros).toBe(7n);
    expect((await cache.get("u")).monthlyBudgetMicros).toBe(9n);
  });

  it("requests that miss together share one read; a failed read is not kept", async () => {
    const t = table();
    const cache = new UserLimitsCache(t.prisma, settings, new ManualClock(), { ttlMs: 5_000 });
    t.row = budget(5n);
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.get("u")));
    expect(answers.map((a) => a.monthlyBudgetMicros)).toEqual(Array(50).fill(5n));
    expect(t.reads).toBe(1);
    let tries = 0;
    const down = {
      userLimits: { findUnique: () => Promise.reject(new Error(`connection lost ${++tries}`)) },
    } as unknown as Pick<PrismaClient, "userLimits">;
    const failing = new UserLimitsCache(down, settings, new ManualClock(), { ttlMs: 5_000 });
    await expect(failing.get("u")).rejects.toThrow("connection lost 1");
    await expect(failing.get("u")).rejects.toThrow("connection lost 2");
  });

  it("ttlMs 0: every read goes to the table", async () => {
    const t = table();
    const cache = new UserLimitsCache(t.prisma, settings, new ManualClock(), { ttlMs: 0 });
    await cache.get("u");
    await cache.get("u");
    expect(t.reads).toBe(2);
  });
});
