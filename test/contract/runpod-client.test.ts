import { costPerHrToMicros, type Pod } from "@trainpod/core";
import { until } from "../support/until";
import { LOG_EVENT_ID, readLines, sequenceOf } from "./client-harness";
import { closingChecks, REAL_SKIPPED, TARGETS, useClientSuite, type TargetSpec } from "./client-suite";
import { specAvailable, SPEC_SKIP_REASON } from "./spec/openapi-validator";
import { isDocumentedSpecInconsistency } from "./validated-messages";

/**
 * The RunPodClient contract, part 1: a pod's life (create, get, list, logs, billing, stop,
 * terminate) and the GPU catalog, over HTTP against the simulator always and against the real
 * RunPod when RUNPOD_API_KEY and RUNPOD_CONTRACT=1 are set (there: one cheap pod, terminated at
 * the end of its describe and again in afterAll; sim-only tests are skipped). Every request the
 * client sends and every answer it receives goes through a ContractRecorder and is validated
 * against openapi-v2.json. Errors and rate limits: runpod-client-errors.test.ts.
 */

function describeLifecycle(spec: TargetSpec): void {
  describe(`RunPodClient contract, pods and catalog: ${spec.label}`, () => {
    const suite = useClientSuite(spec);
    const simOnly = spec.hasSim ? it : it.skip;
    const client = suite.client;
    const statusesOf = (method: string, pathEnd: RegExp): Array<number | "failed"> =>
      suite.exchanges.filter((e) => e.method === method && pathEnd.test(new URL(e.url).pathname)).map((e) => e.status);

    describe("a pod's life", () => {
      let pod: Pod | undefined;
      const created = (): Pod => {
        if (pod === undefined) throw new Error("createPod did not succeed");
        return pod;
      };

      afterAll(async () => {
        // the real RunPod bills from create: whatever happened above, this pod goes now
        if (pod !== undefined) await client().terminatePod(pod.id);
      }, 30_000);

      it("createPod sends the nested CreatePodRequest and gets 201 with a Pod", async () => {
        pod = await client().createPod(suite.target().podInput("life"));
        expect(statusesOf("POST", /\/v2\/pods$/)).toEqual([201]);
        expect(pod).toMatchObject({
          name: `${suite.target().namePrefix}life`,
          gpu: { id: suite.target().gpuTypeId, count: 1 },
        });
        expect(["PROVISIONING", "STARTING", "RUNNING"]).toContain(pod.status);
        expect(pod.id).not.toBe("");
        expect(costPerHrToMicros(pod.cost)).toBeGreaterThan(0n);
      });

      it("getPod answers the same pod", async () => {
        const got = await client().getPod(created().id);
        expect(got).toMatchObject({
          id: created().id,
          name: created().name,
          gpu: { id: suite.target().gpuTypeId, count: 1 },
        });
      });

      it("listPods reads the wrapped {pods} list and filters it by name and by prefix", async () => {
        const byName = await client().listPods({ name: created().name });
        expect(byName.map((p) => p.id)).toEqual([created().id]);
        const byPrefix = await client().listPods({ namePrefix: suite.target().namePrefix });
        expect(byPrefix.map((p) => p.id)).toContain(created().id);
        expect(byPrefix.every((p) => p.name.startsWith(suite.target().namePrefix))).toBe(true);
        await expect(client().listPods({ name: `${created().name}-no-such` })).resolves.toEqual([]);
      });

      simOnly("the pod reaches RUNNING, with runtime and startedAt", async () => {
        const running = await until("the pod to run", async () => {
          const p = await client().getPod(created().id);
          return p?.status === "RUNNING" ? p : undefined;
        });
        expect(running.runtime?.uptime).toBeGreaterThanOrEqual(0);
        expect(running.startedAt).toEqual(expect.any(String));
      });

      simOnly("podLogs streams the container's lines (source=container)", async () => {
        const lines = await readLines(
          (signal) => client().podLogs(created().id, { source: "container", tail: 5, signal }),
          (got) => got.some((l) => l.line === "contract-tick"),
        );
        expect(lines.map((l) => l.source)).toEqual(lines.map(() => "container"));
        expect(lines.map((l) => l.line)).toContain("contract-tick");
        for (const l of lines) expect(l.id).toMatch(LOG_EVENT_ID);
      });

      simOnly("podLogs streams the system's lines (source=system)", async () => {
        const lines = await readLines(
          (signal) => client().podLogs(created().id, { source: "system", signal }),
          (got) => got.some((l) => l.line.startsWith("container started")),
        );
        expect(lines.map((l) => l.source)).toEqual(lines.map(() => "system"));
        expect(lines.some((l) => l.line.startsWith("container started"))).toBe(true);
      });

      simOnly("podLogs resumes after the Last-Event-ID it was given, by sequence", async () => {
        const first = await readLines(
          (signal) => client().podLogs(created().id, { source: "container", tail: 3, signal }),
          (got) => got.length >= 2,
        );
        const [a, b] = first;
        expect(a?.id).toMatch(LOG_EVENT_ID);
        const setAside = suite.recorder.violations.filter(isDocumentedSpecInconsistency).length;
        const resumed = await readLines(
          (signal) => client().podLogs(created().id, { source: "container", lastEventId: a?.id, signal }),
          (got) => got.length >= 1,
        );
        expect(resumed[0]).toEqual(b);
        expect(sequenceOf(resumed[0]?.id)).toBeGreaterThan(sequenceOf(a?.id));
        // the resent `<ts>/<seq>` id is the documented spec inconsistency, and only that request met it
        expect(suite.recorder.violations.filter(isDocumentedSpecInconsistency).length).toBe(setAside + 1);
      });

      it("recentPodLogs reads both sources, system lines first", async () => {
        const lines = await client().recentPodLogs(created().id, { tail: 20, idleMs: 300, maxMs: 3_000 });
        const sources = lines.map((l) => l.source);
        expect(sources).toEqual([
          ...sources.filter((s) => s === "system"),
          ...sources.filter((s) => s === "container"),
        ]);
        if (spec.hasSim) {
          expect(lines.some((l) => l.source === "system" && l.line.startsWith("container started"))).toBe(true);
          expect(lines.some((l) => l.source === "container" && l.line === "contract-tick")).toBe(true);
        }
      });

      it("podBilling reads the pod's own records for a window", async () => {
        const window = {
          podId: created().id,
          startTime: new Date(Date.now() - 2 * 3600_000),
          endTime: new Date(Date.now() + 60_000),
        };
        const read = () => client().podBilling({ ...window, bucketSize: "hour" });
        const records = spec.hasSim
          ? await until("a billed second", async () =>
              (await read()).some((r) => r.gpuAmount > 0) ? read() : undefined,
            )
          : await read();
        for (const r of records) {
          expect(r.podId).toBe(created().id);
          expect(Date.parse(r.startTime)).toBeLessThan(Date.parse(r.endTime));
          expect(r.totalAmount).toBeCloseTo(r.gpuAmount + r.cpuAmount + r.diskAmount, 6);
        }
        const byDay = await client().podBilling({ ...window, bucketSize: "day" });
        expect(byDay.every((r) => r.podId === created().id)).toBe(true);
        if (spec.hasSim) expect(byDay.length).toBeGreaterThan(0);
      });

      it("stopPod sends the stop action: the pod is EXITED and costs 0", async () => {
        await client().stopPod(created().id);
        expect(statusesOf("POST", /\/action$/)).toEqual([200]);
        const stopped = await until("the pod to be EXITED", async () => {
          const p = await client().getPod(created().id);
          return p?.status === "EXITED" ? p : undefined;
        });
        expect(stopped.cost).toBe(0);
      });

      it("terminatePod gets 204, a second one 404 (already gone), and the pod is gone", async () => {
        await expect(client().terminatePod(created().id)).resolves.toEqual({ alreadyGone: false });
        await expect(client().terminatePod(created().id)).resolves.toEqual({ alreadyGone: true });
        expect(statusesOf("DELETE", new RegExp(`/${created().id}$`))).toEqual([204, 404]);
        const after = await client().getPod(created().id);
        if (spec.hasSim) expect(after).toBeNull();
        else expect(after === null || after.status === "TERMINATED").toBe(true);
        pod = undefined;
      });
    });

    describe("the GPU catalog", () => {
      it("listGpuTypes asks include=AVAILABILITY&product=POD and reads prices and stock", async () => {
        const gpus = await client().listGpuTypes();
        const query = new URL(suite.exchanges.at(-1)?.url ?? "http://x").searchParams;
        expect({ include: query.getAll("include"), product: query.getAll("product") }).toEqual({
          include: ["AVAILABILITY"],
          product: ["POD"],
        });
        expect(gpus.length).toBeGreaterThan(0);
        for (const g of gpus) {
          expect(g.availability).toEqual(expect.any(String));
          expect(costPerHrToMicros(g.price.secure)).toBeGreaterThanOrEqual(0n);
        }
        const ours = gpus.find((g) => g.id === suite.target().gpuTypeId);
        expect(ours?.availability).not.toBe("NONE");
        if (spec.hasSim) {
          expect(ours).toMatchObject({
            availability: "HIGH",
            dataCenters: expect.arrayContaining([expect.objectContaining({ availability: "HIGH" })]),
          });
          const soldOut = gpus.find((g) => g.id === suite.sim().soldOutGpuType);
          expect(soldOut?.availability).toBe("NONE");
          expect(soldOut?.dataCenters).toBeUndefined();
        }
      });

      it("listGpuTypes passes cloud and count on", async () => {
        const community = await client().listGpuTypes({ cloud: "COMMUNITY", count: 1 });
        const url = new URL(suite.exchanges.at(-1)?.url ?? "http://x");
        expect({ cloud: url.searchParams.get("cloud"), count: url.searchParams.get("count") }).toEqual({
          cloud: "COMMUNITY",
          count: "1",
        });
        expect(community.find((g) => g.id === suite.target().gpuTypeId)?.availability).not.toBe("NONE");
        if (spec.hasSim) {
          // a 16 GB card: at most 4 per Community pod, so 8 is never in stock
          const eight = await client().listGpuTypes({ cloud: "COMMUNITY", count: 8 });
          expect(eight.find((g) => g.id === suite.target().gpuTypeId)?.availability).toBe("NONE");
          const two = await client().listGpuTypes({ cloud: "SECURE", count: 2 });
          expect(two.find((g) => g.id === suite.target().gpuTypeId)?.availability).toBe("HIGH");
        }
      });

      simOnly("a pinned (stale) catalog level is what the client reads", async () => {
        const soldOut = suite.sim().soldOutGpuType;
        await suite.sim().configure({ catalogAvailability: { [soldOut]: "LOW" } });
        try {
          const gpus = await client().listGpuTypes();
          expect(gpus.find((g) => g.id === soldOut)).toMatchObject({
            availability: "LOW",
            dataCenters: expect.any(Array),
          });
        } finally {
          await suite.sim().configure({ catalogAvailability: { [soldOut]: null } });
        }
      });
    });

    describe("several pods at once (simulator)", () => {
      simOnly("creates, lists, reads, stops and terminates six pods, each answer a spec Pod", async () => {
        const pods = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            client().createPod(suite.target().podInput(`many-${i}`, { args: "sleep 300" })),
          ),
        );
        const ids = pods.map((p) => p.id);
        expect(new Set(ids).size).toBe(6);
        const listed = await client().listPods({ namePrefix: `${suite.target().namePrefix}many-` });
        expect(listed.map((p) => p.id).sort()).toEqual([...ids].sort());
        for (const id of ids)
          await until(`pod ${id} to run`, async () => (await client().getPod(id))?.status === "RUNNING");
        await Promise.all(ids.map((id) => client().stopPod(id)));
        const stopped = await Promise.all(ids.map((id) => client().getPod(id)));
        expect(stopped.map((p) => p?.status)).toEqual(ids.map(() => "EXITED"));
        const results = await Promise.all(ids.map((id) => client().terminatePod(id)));
        expect(results).toEqual(ids.map(() => ({ alreadyGone: false })));
        await expect(client().listPods({ namePrefix: `${suite.target().namePrefix}many-` })).resolves.toEqual([]);
      });

      simOnly("a pod whose image cannot be pulled is ERROR, and its system log says why", async () => {
        const pod = await client().createPod(
          suite.target().podInput("unpullable", { image: "sim/unpullable/contract:1" }),
        );
        await until("the pod to be ERROR", async () => (await client().getPod(pod.id))?.status === "ERROR");
        const lines = await client().recentPodLogs(pod.id, { tail: 50 });
        expect(lines.some((l) => l.source === "system" && l.line.includes("pull access denied"))).toBe(true);
        await expect(client().terminatePod(pod.id)).resolves.toEqual({ alreadyGone: false });
      });
    });

    closingChecks(suite, spec, "runpod-client.test.ts", { floor: 120, provokesErrors: false });
  });
}

if (!specAvailable) {
  describe.skip(SPEC_SKIP_REASON, () => {
    it("validates the RunPodClient's traffic against openapi-v2.json", () => undefined);
  });
} else {
  for (const spec of TARGETS) describeLifecycle(spec);
  if (TARGETS.length === 1) {
    describe.skip(`RunPodClient contract: ${REAL_SKIPPED}`, () => {
      it("runs the same contract against api.runpod.io/v2", () => undefined);
    });
  }
}
