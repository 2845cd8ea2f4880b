import { until } from "../support/until";
import { field, RawCaller } from "./raw-caller";
import { simTarget, type ContractTarget, type SimControls } from "./runpod-targets";
import { describeViolations, reportValidated } from "./validated-messages";

/**
 * A simulator process for one conformance file, its RawCaller, and the file's closing check. The
 * process is started in beforeAll and stopped in afterAll of the describe that calls this.
 */
export interface ConformanceSim {
  raw(): RawCaller;
  target(): ContractTarget;
  sim(): SimControls;
  /** POST /v2/pods with a valid body on the available type (overrides merged); answers the pod id */
  createPod(suffix: string, overrides?: Record<string, unknown>): Promise<string>;
  /** polls GET /v2/pods/{id} (each answer validated) until the pod has `status` */
  waitForStatus(id: string, status: string): Promise<void>;
}

export function useConformanceSim(env: Record<string, string> = {}): ConformanceSim {
  let target: ContractTarget | undefined;
  let raw: RawCaller | undefined;
  const current = (): ContractTarget => {
    if (target === undefined) throw new Error("the simulator did not start");
    return target;
  };
  const caller = (): RawCaller => {
    if (raw === undefined) throw new Error("the simulator did not start");
    return raw;
  };

  beforeAll(async () => {
    target = await simTarget(env);
    raw = new RawCaller(target.apiUrl, target.apiKey);
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
  });

  return {
    raw: caller,
    target: current,
    sim: () => {
      const sim = current().sim;
      if (sim === undefined) throw new Error("no simulator controls");
      return sim;
    },
    createPod: async (suffix, overrides = {}) => {
      const body = {
        name: `${current().namePrefix}${suffix}`,
        image: "trainpod/conformance:1",
        gpu: { id: current().gpuTypeId, count: 1 },
        ...overrides,
      };
      const answer = await caller().call("POST", "/pods", { body });
      if (answer.status !== 201) throw new Error(`create ${suffix} answered ${answer.status}: ${answer.text}`);
      return String(field(answer.json, "id"));
    },
    waitForStatus: async (id, status) => {
      await until(
        `pod ${id} to be ${status}`,
        async () => field((await caller().call("GET", `/pods/${id}`)).json, "status") === status,
      );
    },
  };
}

/** The closing test of a conformance file (declare it last): zero violations, and the count printed and in the hundreds. */
export function conformanceClosingCheck(conformance: ConformanceSim, suite: string): void {
  it("every response the simulator gave (and every request meant to be valid) conformed to openapi-v2.json", () => {
    const raw = conformance.raw();
    const totals = reportValidated(suite, raw.validated, raw.unexpected.length);
    expect(describeViolations(raw.unexpected)).toBe("");
    expect(raw.missingQuotaHeaders).toEqual([]);
    expect(raw.validated).toBe(2 * raw.calls);
    expect(totals.validated).toBeGreaterThanOrEqual(200);
  });
}
