import { isBehind, reachesTermination, sumBill } from "./bill-pod";

describe("RunPod's bill", () => {
  it("adds each record's amounts exactly, from their decimal form", () => {
    const r = (total: number, gpu: number, disk: number) => ({
      podId: "p",
      startTime: "2026-12-01T10:00:00Z",
      endTime: "2026-12-01T11:00:00Z",
      totalAmount: total,
      gpuAmount: gpu,
      cpuAmount: 0,
      diskAmount: disk,
    });
    expect(sumBill([r(0.1, 0.09, 0.01), r(0.2, 0.18, 0.02)])).toEqual({
      totalMicros: 300_000n,
      gpuMicros: 270_000n,
      cpuMicros: 0n,
      diskMicros: 30_000n,
    });
  });

  it("is behind when short of our cost by more than ten seconds of price or a tenth of our cost, whichever is more", () => {
    // $3.60/h: ten seconds = 10,000 µ$; our cost 60,000 µ$ (a tenth: 6,000)
    expect(isBehind(50_001n, 60_000n, 3_600_000n)).toBe(false);
    expect(isBehind(49_000n, 60_000n, 3_600_000n)).toBe(true);
    expect(isBehind(0n, 60_000n, 3_600_000n)).toBe(true);
    // a long run: a tenth of $10 is $1, more than ten seconds of price
    expect(isBehind(9_100_000n, 10_000_000n, 3_600_000n)).toBe(false);
    expect(isBehind(8_900_000n, 10_000_000n, 3_600_000n)).toBe(true);
    // RunPod above ours is never lag
    expect(isBehind(70_000n, 60_000n, 3_600_000n)).toBe(false);
  });

  it("reaches the termination only when the bucket holding the pod's end is in the records", () => {
    const bucket = (start: string, end: string) => ({
      podId: "p",
      startTime: start,
      endTime: end,
      totalAmount: 0.1,
      gpuAmount: 0.1,
      cpuAmount: 0,
      diskAmount: 0,
    });
    const ten = bucket("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z");
    const eleven = bucket("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z");
    // ended 30 s into the 10:00 bucket: the 09:00 bucket alone is a lagging answer, whatever its amount
    expect(reachesTermination([ten], new Date("2026-12-01T10:00:30Z"))).toBe(false);
    expect(reachesTermination([ten, eleven], new Date("2026-12-01T10:00:30Z"))).toBe(true);
    // ended on the hour: its last second is the 09:00 bucket's
    expect(reachesTermination([ten], new Date("2026-12-01T10:00:00Z"))).toBe(true);
    expect(reachesTermination([], new Date("2026-12-01T10:00:00Z"))).toBe(false);
  });
});
