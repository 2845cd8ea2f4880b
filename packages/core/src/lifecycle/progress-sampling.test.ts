import { keepProgressRow, PROGRESS_ROWS_FULL, progressStride } from "./progress-sampling";

/** The steps of a run of `total` steps whose progress rows are kept. */
const kept = (total: number, known = true) => {
  const out: number[] = [];
  for (let step = 1; step <= total; step++) if (keepProgressRow(step, known ? total : undefined)) out.push(step);
  return out;
};

describe("progress rows kept (every step for the first 100, then one per N steps, plus the last)", () => {
  it("keeps every step of a short run", () => {
    expect(kept(100)).toHaveLength(100);
    expect(kept(7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it.each([
    [10_000, 12],
    [100_000, 112],
    [1_000_000, 1112],
  ])("a run of %p steps keeps about 1,000 rows (one per %p steps), the last one included", (total, n) => {
    expect(progressStride(total, total)).toBe(n);
    const steps = kept(total);
    expect(steps.length).toBeLessThanOrEqual(1_001);
    expect(steps.length).toBeGreaterThan(900);
    expect(steps.slice(0, PROGRESS_ROWS_FULL)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(steps.at(-1)).toBe(total);
    expect(steps.slice(PROGRESS_ROWS_FULL, -1).every((s) => s % n === 0)).toBe(true);
  });

  it("without a total: every step to 1,000, then about 900 rows per tenfold", () => {
    expect(kept(1_000, false)).toHaveLength(1_000);
    expect(kept(10_000, false)).toHaveLength(1_000 + 900);
    expect(kept(100_000, false)).toHaveLength(1_000 + 900 + 900);
  });

  it("keeps step 0 and a step past a total that was too small", () => {
    expect(keepProgressRow(0, 10_000)).toBe(true);
    expect(keepProgressRow(10_001, 10_000)).toBe(true);
  });
});
