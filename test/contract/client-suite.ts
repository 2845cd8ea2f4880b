import { RunPodRestClient, type RunPodRestClientOptions } from "@trainpod/core";
import { observingFetch, rejectionOf, serialise, type Exchange } from "./client-harness";
import { realTarget, realTargetConfigured, simTarget, type ContractTarget, type SimControls } from "./runpod-targets";
import { ContractRecorder } from "./spec/contract-recorder";
import { describeViolations, reportValidated, unexplainedViolations } from "./validated-messages";

/**
 * What the RunPodClient contract files share: a target (the simulator always; the real RunPod
 * with RUNPOD_API_KEY and RUNPOD_CONTRACT=1), one ContractRecorder that every client's fetch goes
 * through (so each request the client sends and each answer it gets is validated against
 * openapi-v2.json), cleanup of every pod the run named, and the closing checks.
 */
export interface TargetSpec {
  label: string;
  /** the simulator's admin API is there; otherwise sim-only tests are skipped */
  hasSim: boolean;
  make: (fetchImpl: typeof fetch) => Promise<ContractTarget>;
}

export const TARGETS: TargetSpec[] = [
  { label: "simulator", hasSim: true, make: () => simTarget() },
  ...(realTargetConfigured() ? [{ label: "real RunPod", hasSim: false, make: realTarget }] : []),
];

export const REAL_SKIPPED =
  "real RunPod part skipped: set RUNPOD_API_KEY and RUNPOD_CONTRACT=1 to run it (one cheap pod, under a minute)";

export interface ClientSuite {
  target(): ContractTarget;
  sim(): SimControls;
  recorder: ContractRecorder;
  /** every answer any client got, in order (status, Retry-After) */
  exchanges: Exchange[];
  /** every error a test provoked, checked for the API key at the end */
  thrown: unknown[];
  /** the recorded, observed fetch */
  fetch: typeof fetch;
  client(options?: Partial<RunPodRestClientOptions>): RunPodRestClient;
  /** the rejection of `promise`, kept for the key check */
  failure(promise: Promise<unknown>): Promise<unknown>;
  /** a recorder of its own for deliberately invalid requests (its count joins the total; its violations are the test's to check) */
  sideRecorder(): ContractRecorder;
  /** messages validated by the main and the side recorders */
  validated(): number;
}

/** Registers beforeAll/afterAll in the current describe and answers the suite's handles. */
export function useClientSuite(spec: TargetSpec): ClientSuite {
  const recorder = new ContractRecorder();
  const exchanges: Exchange[] = [];
  const thrown: unknown[] = [];
  const recorded = recorder.wrap(observingFetch(fetch, exchanges));
  let target: ContractTarget | undefined;
  const sides: ContractRecorder[] = [];
  const current = (): ContractTarget => {
    if (target === undefined) throw new Error(`the ${spec.label} target did not start`);
    return target;
  };
  const client = (options: Partial<RunPodRestClientOptions> = {}): RunPodRestClient =>
    new RunPodRestClient({
      baseUrl: current().apiUrl,
      apiKey: current().apiKey,
      baseDelayMs: 20,
      maxDelayMs: 200,
      fetch: recorded,
      ...options,
    });

  beforeAll(async () => {
    target = await spec.make(recorded);
  }, 60_000);

  afterAll(async () => {
    if (target === undefined) return;
    const before = unexplainedViolations(recorder).length;
    try {
      const leftovers = await client().listPods({ namePrefix: target.namePrefix });
      for (const pod of leftovers) await client().terminatePod(pod.id);
      await recorder.idle();
    } finally {
      await target.stop();
    }
    const late = unexplainedViolations(recorder).slice(before);
    if (late.length > 0) throw new Error(`cleanup traffic broke the spec:\n${describeViolations(late)}`);
  }, 60_000);

  return {
    target: current,
    sim: () => {
      const sim = current().sim;
      if (sim === undefined) throw new Error(`${current().name} has no simulator controls`);
      return sim;
    },
    recorder,
    exchanges,
    thrown,
    fetch: recorded,
    client,
    failure: async (promise) => {
      const err = await rejectionOf(promise);
      thrown.push(err);
      return err;
    },
    sideRecorder: () => {
      const side = new ContractRecorder();
      sides.push(side);
      return side;
    },
    validated: () => sides.reduce((sum, side) => sum + side.validated, recorder.validated),
  };
}

/**
 * The closing tests (declare them last): no error leaked the key; every message conformed; the
 * recorder saw every exchange (a request and a response each); the count is printed and, on the
 * simulator, at least `floor`.
 */
export function closingChecks(
  suite: ClientSuite,
  spec: TargetSpec,
  name: string,
  opts: { floor: number; provokesErrors: boolean },
): void {
  const { floor } = opts;
  if (opts.provokesErrors) {
    it("no thrown error carries the API key", () => {
      expect(suite.thrown.length).toBeGreaterThan(0);
      for (const err of suite.thrown) expect(serialise(err)).not.toContain(suite.target().apiKey);
    });
  }

  it("every request the client sent and every answer it got conforms to openapi-v2.json", async () => {
    await suite.recorder.idle();
    const violations = unexplainedViolations(suite.recorder);
    const totals = reportValidated(`${name} (${spec.label})`, suite.validated(), violations.length);
    if (violations.length > 0) process.stdout.write(`${describeViolations(violations)}\n`);
    expect(describeViolations(violations)).toBe("");
    expect(suite.recorder.notes).toEqual([]);
    const counts = Object.values(suite.recorder.byOperation);
    const answered = suite.exchanges.filter((e) => e.status !== "failed").length;
    expect({
      requests: counts.reduce((n, c) => n + c.requests, 0),
      responses: counts.reduce((n, c) => n + c.responses, 0),
    }).toEqual({ requests: suite.exchanges.length, responses: answered });
    if (spec.hasSim) expect(totals.validated).toBeGreaterThanOrEqual(floor);
  });
}
