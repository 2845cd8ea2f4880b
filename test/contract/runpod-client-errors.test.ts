import { setTimeout as delay } from "node:timers/promises";
import {
  BadRequestError,
  classifyHttpError,
  ContractViolationError,
  ForbiddenError,
  InsufficientBalanceError,
  NoCapacityError,
  RateLimitedError,
  RunPodRestClient,
  RunPodUnavailableError,
  UnauthorizedError,
  type CreatePodRequest,
  type RunPodRestClientOptions,
} from "@trainpod/core";
import { serialise } from "./client-harness";
import { closingChecks, REAL_SKIPPED, TARGETS, useClientSuite, type TargetSpec } from "./client-suite";
import { simTarget, type ContractTarget } from "./runpod-targets";
import { createCount, faultCount } from "./sim-stats";
import { specAvailable, SPEC_SKIP_REASON } from "./spec/openapi-validator";

/**
 * The RunPodClient contract, part 2: each error answer the spec (and the simulator) gives, as the
 * typed error the client throws, and 429s waited out for Retry-After. Same targets and recorder as
 * runpod-client.test.ts; no pod is created on the real RunPod here.
 */

const NO_CAPACITY = "There are no longer any instances available with the requested specifications";

function describeErrors(spec: TargetSpec): void {
  describe(`RunPodClient contract, errors and rate limits: ${spec.label}`, () => {
    const suite = useClientSuite(spec);
    const simOnly = spec.hasSim ? it : it.skip;
    const { client, failure } = suite;
    const mark = (): number => suite.exchanges.length;
    const statusesSince = (from: number): Array<number | "failed"> => suite.exchanges.slice(from).map((e) => e.status);

    it("getPod of an unknown pod is null (404); terminating it is already gone (404)", async () => {
      const from = mark();
      await expect(client().getPod("tpcontractnosuchpod")).resolves.toBeNull();
      await expect(client().terminatePod("tpcontractnosuchpod")).resolves.toEqual({ alreadyGone: true });
      expect(statusesSince(from)).toEqual([404, 404]);
    });

    it("a wrong key is UnauthorizedError (401), final, and the key is not in it", async () => {
      const wrongKey = `${suite.target().apiKey}-wrong`;
      const err = await failure(client({ apiKey: wrongKey }).listPods());
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect((err as UnauthorizedError).retryable).toBe(false);
      expect(serialise(err)).not.toContain(wrongKey);
      expect(suite.exchanges.at(-1)?.status).toBe(401);
    });

    simOnly(
      "400 on create (no capacity for the type) is NoCapacityError, retryable, with RunPod's wording; no pod is left",
      async () => {
        const sim = suite.sim();
        const before = createCount(await sim.stats(), sim.soldOutGpuType, 400);
        const input = suite.target().podInput("soldout", { gpu: { id: sim.soldOutGpuType, count: 1 } });
        const err = await failure(client().createPod(input));
        expect(err).toBeInstanceOf(NoCapacityError);
        expect((err as NoCapacityError).retryable).toBe(true);
        expect((err as NoCapacityError).message).toContain(NO_CAPACITY);
        expect(suite.exchanges.at(-1)?.status).toBe(400);
        expect(createCount(await sim.stats(), sim.soldOutGpuType, 400)).toBe(before + 1);
        await expect(client().listPods({ name: input.name })).resolves.toEqual([]);
      },
    );

    simOnly("402 on create (balance 0) is InsufficientBalanceError, final and not retried", async () => {
      await suite.sim().configure({ balanceUsd: 0 });
      const from = mark();
      let err: unknown;
      try {
        err = await failure(client().createPod(suite.target().podInput("broke")));
      } finally {
        await suite.sim().configure({ balanceUsd: null });
      }
      expect(err).toBeInstanceOf(InsufficientBalanceError);
      expect((err as InsufficientBalanceError).retryable).toBe(false);
      expect((err as InsufficientBalanceError).message).toMatch(/balance/i);
      expect(statusesSince(from)).toEqual([402]);
    });

    simOnly("403 on create (a GPU pool the account may not use) is ForbiddenError, final", async () => {
      const input = suite.target().podInput("forbidden", { gpu: { id: suite.sim().forbiddenGpuType, count: 1 } });
      const err = await failure(client().createPod(input));
      expect(err).toBeInstanceOf(ForbiddenError);
      expect((err as ForbiddenError).retryable).toBe(false);
      expect((err as ForbiddenError).message).toContain(suite.sim().forbiddenGpuType);
      expect(suite.exchanges.at(-1)?.status).toBe(403);
    });

    it("422 for a query the client lets through (count=0) is ContractViolationError; the validator flags that request", async () => {
      const side = suite.sideRecorder();
      const err = await failure(client({ fetch: side.wrap(fetch) }).listGpuTypes({ count: 0 }));
      expect(err).toBeInstanceOf(ContractViolationError);
      expect((err as ContractViolationError).retryable).toBe(false);
      expect((err as ContractViolationError).violations.length).toBeGreaterThan(0);
      if (spec.hasSim) expect((err as ContractViolationError).violations).toEqual(["count: must be an integer >= 1"]);
      // the request is the deliberately invalid one; the 422 answer must still conform
      expect(side.violations.map((v) => `${v.kind} ${v.operationId ?? ""}: ${v.violation}`)).toEqual([
        "request listGpuTypes: query parameter 'count' must be >= 1",
      ]);
    });

    simOnly(
      "a create body with a v1 field name never leaves the client; sent raw it is a 422 the client classifies as ContractViolationError",
      async () => {
        const renamed = { ...suite.target().podInput("renamed"), gpuTypeIds: [suite.sim().availableGpuType] };
        const from = mark();
        const local = await failure(client().createPod(renamed as unknown as CreatePodRequest));
        expect(local).toBeInstanceOf(BadRequestError);
        expect((local as BadRequestError).message).toMatch(/gpuTypeIds/);
        expect(mark()).toBe(from);

        const side = suite.sideRecorder();
        const res = await side.wrap(fetch)(`${suite.target().apiUrl}/pods`, {
          method: "POST",
          headers: { authorization: `Bearer ${suite.target().apiKey}`, "content-type": "application/json" },
          body: JSON.stringify(renamed),
        });
        const bodyText = await res.text();
        expect(res.status).toBe(422);
        expect(side.violations.map((v) => `${v.kind}: ${v.violation}`)).toEqual([
          expect.stringMatching(/^request: request body .*gpuTypeIds/),
        ]);
        const err = classifyHttpError({
          method: "POST",
          endpoint: "/pods",
          status: res.status,
          bodyText,
          retryAfter: null,
          attempt: 1,
          apiKey: suite.target().apiKey,
          nowMs: Date.now(),
        });
        suite.thrown.push(err);
        expect(err).toBeInstanceOf(ContractViolationError);
        expect((err as ContractViolationError).violations).toContain("gpuTypeIds: unknown field");
      },
    );

    simOnly(
      "a create answered 500 after the pod was made (createThenFail) is RunPodUnavailableError, not retried; the pod is adopted by name",
      async () => {
        const sim = suite.sim();
        const input = suite.target().podInput("ambiguous");
        const before = faultCount(await sim.stats(), "createThenFail");
        await sim.configure({ faults: { createThenFail: 1 } });
        const from = mark();
        let err: unknown;
        try {
          err = await failure(client().createPod(input));
        } finally {
          await sim.configure({ faults: { createThenFail: 0 } });
        }
        expect(err).toBeInstanceOf(RunPodUnavailableError);
        expect((err as RunPodUnavailableError).reason).toBe("server");
        expect(statusesSince(from)).toEqual([500]);
        expect(faultCount(await sim.stats(), "createThenFail")).toBe(before + 1);
        const adopted = await client().listPods({ name: input.name });
        expect(adopted).toHaveLength(1);
        await expect(client().terminatePod(adopted[0]?.id ?? "")).resolves.toEqual({ alreadyGone: false });
      },
    );

    simOnly(
      "a create refused by an injected 429 waits its Retry-After (1 s), is retried, and makes exactly one pod",
      async () => {
        const sim = suite.sim();
        const before = faultCount(await sim.stats(), "rateLimit");
        await sim.configure({
          faults: { rateLimit: 1, retryAfterSeconds: 1, methods: ["POST"], routes: ["/v2/pods"] },
        });
        const sleeps: number[] = [];
        const sleep = async (ms: number): Promise<void> => {
          sleeps.push(ms);
          await sim.configure({ faults: { rateLimit: 0 } });
          await delay(ms);
        };
        const input = suite.target().podInput("ratelimited");
        const from = mark();
        try {
          await client({ maxRetries: 3, sleep }).createPod(input);
        } finally {
          await sim.configure({ faults: { rateLimit: 0, methods: [], routes: [] } });
        }
        expect(suite.exchanges.slice(from).map((e) => [e.status, e.retryAfter])).toEqual([
          [429, "1"],
          [201, null],
        ]);
        expect(sleeps).toEqual([1000]);
        expect(faultCount(await sim.stats(), "rateLimit")).toBe(before + 1);
        const named = await client().listPods({ name: input.name });
        expect(named).toHaveLength(1);
        await client().terminatePod(named[0]?.id ?? "");
      },
    );

    (spec.hasSim ? describe : describe.skip)(
      "past the account quota (a simulator of its own: 3 requests a minute)",
      () => {
        let quota: ContractTarget | undefined;
        const quotaSim = (): ContractTarget => {
          if (quota === undefined) throw new Error("the quota simulator did not start");
          return quota;
        };
        const quotaClient = (options: Partial<RunPodRestClientOptions> = {}): RunPodRestClient =>
          new RunPodRestClient({
            baseUrl: quotaSim().apiUrl,
            apiKey: quotaSim().apiKey,
            fetch: suite.fetch,
            baseDelayMs: 20,
            maxDelayMs: 200,
            ...options,
          });
        /** calls listPods until one is refused (at most 8: 3 fit a window, and a new window may start once) */
        const untilRefused = async (c: RunPodRestClient): Promise<unknown> => {
          for (let i = 0; i < 8; i += 1) {
            const err = await c.listPods().then(
              () => undefined,
              (e: unknown) => e,
            );
            if (err !== undefined) return err;
          }
          return new Error("no call was refused in 8");
        };

        beforeAll(async () => {
          quota = await simTarget({ SIM_QUOTA: JSON.stringify({ minute: 3 }) });
        }, 60_000);
        afterAll(async () => {
          await quota?.stop();
        });
        beforeEach(async () => {
          await quotaSim().sim?.reset();
        });

        it("a 429 is RateLimitedError with the answer's Retry-After, retryable, and the key is not in it", async () => {
          const from = mark();
          const err = await untilRefused(quotaClient({ maxRetries: 0 }));
          suite.thrown.push(err);
          expect(err).toBeInstanceOf(RateLimitedError);
          const refused = suite.exchanges.at(-1);
          expect(refused?.status).toBe(429);
          expect(refused?.retryAfter).toMatch(/^\d+$/);
          expect((err as RateLimitedError).retryAfterMs).toBe(Number(refused?.retryAfter) * 1000);
          expect((err as RateLimitedError).retryable).toBe(true);
          expect((err as RateLimitedError).message).toContain("rate limit exceeded for the minute window");
          expect(serialise(err)).not.toContain(quotaSim().apiKey);
          expect(statusesSince(from).filter((s) => s === 429)).toHaveLength(1);
        });

        it("a 429 is waited out for exactly its Retry-After, then the call is sent again and succeeds", async () => {
          const sleeps: number[] = [];
          // Retry-After here is the time to the minute window's reset (up to 60 s): the test brings
          // that reset forward (POST /admin/reset) instead of waiting it out, and checks the wait asked for
          const sleep = async (ms: number): Promise<void> => {
            sleeps.push(ms);
            await quotaSim().sim?.reset();
          };
          const c = quotaClient({ maxRetries: 2, sleep });
          const from = mark();
          for (let i = 0; i < 8 && sleeps.length === 0; i += 1) await expect(c.listPods()).resolves.toEqual([]);
          const statuses = statusesSince(from);
          const refusedAt = statuses.indexOf(429);
          expect(refusedAt).toBeGreaterThanOrEqual(0);
          expect(statuses.slice(refusedAt)).toEqual([429, 200]);
          expect(sleeps).toEqual([Number(suite.exchanges[from + refusedAt]?.retryAfter) * 1000]);
          expect(sleeps[0]).toBeGreaterThanOrEqual(1000);
        });
      },
    );

    closingChecks(suite, spec, "runpod-client-errors.test.ts", { floor: 40, provokesErrors: true });
  });
}

if (!specAvailable) {
  describe.skip(SPEC_SKIP_REASON, () => {
    it("validates the RunPodClient's error traffic against openapi-v2.json", () => undefined);
  });
} else {
  for (const spec of TARGETS) describeErrors(spec);
  if (TARGETS.length === 1) {
    describe.skip(`RunPodClient errors contract: ${REAL_SKIPPED}`, () => {
      it("runs the same error contract against api.runpod.io/v2", () => undefined);
    });
  }
}
