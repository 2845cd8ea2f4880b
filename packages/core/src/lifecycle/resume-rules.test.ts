import { autoResumeVerdict, savedMicros, type AttemptCost, type AttemptFacts } from "./resume-rules";

const failed = (over: Partial<AttemptFacts> = {}): AttemptFacts => ({
  status: "FAILED",
  failureReason: "POD_VANISHED",
  exitCode: null,
  progressStep: 120,
  attempt: 1,
  autoResumeMaxAttempts: 3,
  ...over,
});

describe("autoResumeVerdict (issue 27)", () => {
  it("resumes the pod's failures while attempts are left", () => {
    for (const reason of ["POD_VANISHED", "POD_ERROR", "HEARTBEAT_TIMEOUT"] as const)
      expect(autoResumeVerdict(failed({ failureReason: reason }), []).resume).toBe(true);
    expect(autoResumeVerdict(failed({ attempt: 3 }), [])).toEqual({ resume: false, why: "all 3 attempts were made" });
    expect(autoResumeVerdict(failed({ autoResumeMaxAttempts: 0 }), []).resume).toBe(false);
  });

  it("no capacity counts only for an attempt that replaced a lost pod", () => {
    expect(autoResumeVerdict(failed({ failureReason: "NO_CAPACITY", attempt: 2 }), []).resume).toBe(true);
    expect(autoResumeVerdict(failed({ failureReason: "NO_CAPACITY", attempt: 1 }), []).resume).toBe(false);
  });

  it("never the user's own failures: bad input, out of memory twice at the same step, limits, a cancel", () => {
    const oom = failed({ failureReason: "TRAINING_FAILED", exitCode: 3, attempt: 2 });
    expect(autoResumeVerdict(failed({ failureReason: "TRAINING_FAILED", exitCode: 2 }), []).resume).toBe(false);
    expect(autoResumeVerdict(oom, [failed({ attempt: 1, progressStep: 40 })]).resume).toBe(true);
    expect(autoResumeVerdict(oom, [{ ...oom, attempt: 1 }])).toEqual({
      resume: false,
      why: "out of memory twice at step 120: the configuration's",
    });
    expect(autoResumeVerdict(failed({ failureReason: "TRAINING_FAILED", exitCode: 1 }), []).resume).toBe(false);
    expect(autoResumeVerdict(failed({ failureReason: "BUDGET_EXCEEDED" }), []).resume).toBe(false);
    expect(autoResumeVerdict(failed({ status: "CANCELLED", failureReason: null }), []).resume).toBe(false);
  });
});

describe("savedMicros", () => {
  const attempt = (over: Partial<AttemptCost>): AttemptCost => ({
    id: "a",
    attempt: 1,
    resumedFromStep: null,
    progressStep: 0,
    costMicros: null,
    status: "FAILED",
    cost: null,
    ...over,
  });
  it("prices the steps not trained again at what a step cost the attempt whose checkpoint it took", () => {
    const lost = attempt({ progressStep: 25, cost: 2_500_000n });
    expect(savedMicros(attempt({ attempt: 2, resumedFromStep: 20 }), lost)).toBe(2_000_000n);
    // a second resume: the source trained steps 20..30 for $1
    const second = attempt({ attempt: 2, resumedFromStep: 20, progressStep: 30, cost: 1_000_000n });
    expect(savedMicros(attempt({ attempt: 3, resumedFromStep: 30 }), second)).toBe(3_000_000n);
    expect(savedMicros(attempt({}), lost)).toBe(0n);
    expect(savedMicros(attempt({ resumedFromStep: 20 }), attempt({ progressStep: 0, cost: 5n }))).toBe(0n);
  });
});
