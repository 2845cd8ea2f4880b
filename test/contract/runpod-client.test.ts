import {
  BadRequestError,
  NoCapacityError,
  RunPodRestClient,
  UnauthorizedError,
  costPerHrToMicros,
  type Pod,
  type RunPodCallInfo,
  type RunPodRestClientOptions,
} from "@trainpod/core";
import { faultCounts } from "./sim-stats";
import { realTarget, realTargetConfigured, simTarget, type ContractTarget, type SimControls } from "./runpod-targets";

/**
 * One contract for RunPodClient, run over HTTP against the simulator always, and against the
 * real RunPod when RUNPOD_API_KEY and RUNPOD_CONTRACT=1 are set. Sim-only parts (fault
 * injection, forced no-capacity) are `it.skip` on the real target. Every pod created is named with
 * the run's prefix and terminated in afterAll.
 */
interface TargetSpec {
  label: string;
  /** the simulator's admin API is there (fault injection, capacity); otherwise those tests are skipped */
  hasSim: boolean;
  make: () => Promise<ContractTarget>;
}

function describeContract(spec: TargetSpec): void {
  describe(`RunPodClient contract: ${spec.label}`, () => {
    let target: ContractTarget;
    const thrown: unknown[] = [];
    const client = (options: Partial<RunPodRestClientOptions> = {}): RunPodRestClient =>
      new RunPodRestClient({ baseUrl: target.apiUrl, apiKey: target.apiKey, baseDelayMs: 20, maxDelayMs: 200, ...options });
    const failure = async (promise: Promise<unknown>): Promise<unknown> => {
      const err = await promise.then(
        () => new Error("expected a rejection"),
        (e: unknown) => e,
      );
      thrown.push(err);
      return err;
    };
    const simOnly = spec.hasSim ? it : it.skip;
    const simControls = (): SimControls => {
      if (target.sim === undefined) throw new Error(`${target.name} has no simulator controls`);
      return target.sim;
    };

    beforeAll(async () => {
      target = await spec.make();
    }, 60_000);

    afterAll(async () => {
      if (target === undefined) return;
      try {
        const leftovers = await client().listPods({ namePrefix: target.namePrefix });
        for (const pod of leftovers.filter((p) => p.desiredStatus !== "TERMINATED")) await client().terminatePod(pod.id);
      } finally {
        await target.stop();
      }
    }, 60_000);

    describe("pod lifecycle", () => {
      let created: Pod;

      it("creates a pod and answers it with its id, name, status and price", async () => {
        created = await client().createPod(target.podInput("life"));
        expect(created.id).not.toBe("");
        expect(created.name).toBe(`${target.namePrefix}life`);
        expect(created.desiredStatus).toBe("RUNNING");
        expect(created.costPerHr).toBeGreaterThan(0);
        expect(costPerHrToMicros(created.costPerHr)).toBeGreaterThan(0n);
      });

      it("gets it by id", async () => {
        const got = await client().getPod(created.id);
        expect(got).toMatchObject({ id: created.id, name: created.name, desiredStatus: "RUNNING" });
      });

      it("lists it by name prefix and by desired status", async () => {
        const second = await client().createPod(target.podInput("second"));
        const byPrefix = await client().listPods({ namePrefix: target.namePrefix });
        expect(byPrefix.map((p) => p.id)).toEqual(expect.arrayContaining([created.id, second.id]));
        expect(byPrefix.every((p) => p.name.startsWith(target.namePrefix))).toBe(true);
        const running = await client().listPods({ namePrefix: target.namePrefix, desiredStatus: "RUNNING" });
        expect(running.map((p) => p.id)).toContain(created.id);
        const exited = await client().listPods({ namePrefix: target.namePrefix, desiredStatus: "EXITED" });
        expect(exited.map((p) => p.id)).not.toContain(created.id);
        await client().terminatePod(second.id);
      });

      it("stops it (EXITED)", async () => {
        await client().stopPod(created.id);
        await expect(client().getPod(created.id)).resolves.toMatchObject({ desiredStatus: "EXITED" });
      });

      it("terminates it, and a second terminate is already gone", async () => {
        await expect(client().terminatePod(created.id)).resolves.toEqual({ alreadyGone: false });
        await expect(client().terminatePod(created.id)).resolves.toEqual({ alreadyGone: true });
        const after = await client().getPod(created.id);
        expect(after === null || after.desiredStatus === "TERMINATED").toBe(true);
      });
    });

    describe("errors", () => {
      it("an unknown pod: getPod is null, terminate is already gone", async () => {
        await expect(client().getPod("tpcontractnosuchpod")).resolves.toBeNull();
        await expect(client().terminatePod("tpcontractnosuchpod")).resolves.toEqual({ alreadyGone: true });
      });

      it("a wrong key is UnauthorizedError (final), and the key is not in it", async () => {
        const wrongKey = `${target.apiKey}-wrong`;
        const err = await failure(client({ apiKey: wrongKey }).listPods());
        expect(err).toBeInstanceOf(UnauthorizedError);
        expect((err as UnauthorizedError).retryable).toBe(false);
        expect(serialise(err)).not.toContain(wrongKey);
      });

      it("a body RunPod rejects is BadRequestError (final)", async () => {
        const err = await failure(client().createPod({ ...target.podInput("bad"), gpuTypeIds: ["NVIDIA NOT A GPU 9000"] }));
        expect(err).toBeInstanceOf(BadRequestError);
        expect((err as BadRequestError).retryable).toBe(false);
      });

      simOnly("a sold-out GPU type is NoCapacityError (retryable), and no pod is left", async () => {
        const input = { ...target.podInput("soldout"), gpuTypeIds: [simControls().soldOutGpuType] };
        const err = await failure(client().createPod(input));
        expect(err).toBeInstanceOf(NoCapacityError);
        expect((err as NoCapacityError).retryable).toBe(true);
        const left = await client().listPods({ namePrefix: input.name });
        expect(left.filter((p) => p.desiredStatus !== "TERMINATED")).toEqual([]);
      });
    });

    describe("reliability", () => {
      simOnly("reads succeed through injected 429s, 5xx and dropped connections, which the sim counts", async () => {
        const sim = simControls();
        const pod = await client().createPod(target.podInput("faulty"));
        const before = faultCounts(await sim.stats());
        await sim.configure({ faults: { rateLimit: 0.2, serverError: 0.2, drop: 0.15, retryAfterSeconds: 0 } });
        try {
          const reads = client({ maxRetries: 10, rateLimitPerSecond: 100 });
          for (let i = 0; i < 20; i += 1) {
            await expect(reads.listPods({ namePrefix: target.namePrefix })).resolves.toEqual(expect.any(Array));
            await expect(reads.getPod(pod.id)).resolves.toMatchObject({ id: pod.id });
          }
        } finally {
          await sim.configure({ faults: { rateLimit: 0, serverError: 0, drop: 0, slow: 0, retryAfterSeconds: 1 } });
        }
        const after = faultCounts(await sim.stats());
        expect(after.rateLimit).toBeGreaterThan(before.rateLimit);
        expect(after.serverError).toBeGreaterThan(before.serverError);
        expect(after.drop).toBeGreaterThan(before.drop);
      });

      simOnly("a slow answer past timeoutMs is retried as a timeout", async () => {
        const sim = simControls();
        await sim.configure({ faults: { slow: 0.5, slowMs: 1_500 } });
        const calls: RunPodCallInfo[] = [];
        try {
          const impatient = client({ timeoutMs: 500, maxRetries: 10, onCall: (info) => calls.push(info) });
          for (let i = 0; i < 6; i += 1) await expect(impatient.listPods()).resolves.toEqual(expect.any(Array));
        } finally {
          await sim.configure({ faults: { slow: 0 } });
        }
        expect(calls.some((c) => c.status === "timeout")).toBe(true);
      });

      simOnly("a create refused with 429 waits Retry-After, is retried, and creates exactly one pod", async () => {
        const sim = simControls();
        await sim.configure({ faults: { rateLimit: 0.5, retryAfterSeconds: 1, methods: ["POST"] } });
        const calls: RunPodCallInfo[] = [];
        const started = performance.now();
        let pod: Pod;
        try {
          pod = await client({ maxRetries: 10, onCall: (info) => calls.push(info) }).createPod(target.podInput("ratelimited"));
        } finally {
          await sim.configure({ faults: { rateLimit: 0, methods: [] } });
        }
        const refused = calls.filter((c) => c.status === 429).length;
        expect(calls.at(-1)?.status).toBe(201);
        expect(performance.now() - started).toBeGreaterThanOrEqual(refused * 1000 * 0.9);
        const named = await client().listPods({ namePrefix: pod.name });
        expect(named.map((p) => p.id)).toEqual([pod.id]);
      });

      it("keeps to its rate: N calls take at least (N - 1) / rate seconds", async () => {
        const calls: RunPodCallInfo[] = [];
        const limited = client({ rateLimitPerSecond: 4, onCall: (info) => calls.push(info) });
        const started = performance.now();
        await Promise.all(Array.from({ length: 9 }, () => limited.getPod("tpcontractnosuchpod")));
        const elapsedMs = performance.now() - started;
        expect(calls).toHaveLength(9);
        expect(elapsedMs).toBeGreaterThanOrEqual(((9 - 1) / 4) * 1000 * 0.8);
      });
    });

    it("no thrown error carries the API key", () => {
      expect(thrown.length).toBeGreaterThan(0);
      for (const err of thrown) expect(serialise(err)).not.toContain(target.apiKey);
    });
  });
}

function serialise(err: unknown): string {
  if (!(err instanceof Error)) return JSON.stringify(err);
  const { details } = err as Error & { details?: unknown };
  return [err.message, err.stack, JSON.stringify(err), JSON.stringify(details), String(err.cause)].join("\n");
}

describeContract({ label: "simulator", hasSim: true, make: simTarget });

if (realTargetConfigured()) {
  describeContract({ label: "real RunPod", hasSim: false, make: realTarget });
} else {
  describe.skip("RunPodClient contract: real RunPod (skipped: set RUNPOD_API_KEY and RUNPOD_CONTRACT=1 to run it)", () => {
    it("runs against https://rest.runpod.io/v1", () => undefined);
  });
  console.info("[contract] real RunPod part skipped: set RUNPOD_API_KEY and RUNPOD_CONTRACT=1 to run it (it creates and terminates a few pods)");
}
