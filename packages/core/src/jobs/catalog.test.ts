import { Backoffs } from "bullmq";
import { loadConfig } from "../config";
import { jobCatalog } from "./catalog";

// What the deploy job's retries add up to, computed with BullMQ's own backoff (issue 32 item 10: the comment said
// "past 2 h"; they come to 34–68 min), and that the capacity wait's default ends before them.
async function deployWaitsMs(random: number): Promise<number> {
  const { attempts = 1, backoff } = jobCatalog.deploy.options;
  if (typeof backoff !== "object" || backoff.type !== "exponential")
    throw new Error("the deploy job's backoff changed");
  const strategy = Backoffs.builtinStrategies.exponential?.(backoff.delay ?? 0, backoff.jitter);
  if (strategy === undefined) throw new Error("BullMQ has no exponential backoff");
  const spy = jest.spyOn(Math, "random").mockReturnValue(random);
  try {
    let total = 0;
    for (let made = 1; made < attempts; made++) total += await strategy(made);
    return total;
  } finally {
    spy.mockRestore();
  }
}

describe("the deploy job's retries", () => {
  it("wait 34 to 68 minutes in all, about 51 on average", async () => {
    const minutes = (ms: number) => Math.round((ms / 60_000) * 10) / 10;
    expect(minutes(await deployWaitsMs(0))).toBe(34.1);
    expect(minutes(await deployWaitsMs(0.5))).toBe(51.2);
    expect(minutes(await deployWaitsMs(0.999999))).toBe(68.2);
  });

  it("outlast NO_CAPACITY_MAX_WAIT_MINUTES's default, which therefore ends a wait for capacity", async () => {
    const config = loadConfig({ DATABASE_URL: "postgresql://x@127.0.0.1/x", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(config.env.NO_CAPACITY_MAX_WAIT_MINUTES * 60_000).toBeLessThan(await deployWaitsMs(0));
  });
});
