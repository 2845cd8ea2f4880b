import { conformanceClosingCheck, useConformanceSim } from "./conformance-sim";
import { field } from "./raw-caller";
import { specAvailable, SPEC_SKIP_REASON } from "./spec/openapi-validator";

/**
 * The simulator's side of the contract, part 2: the GPU catalog (list and by id, with and without
 * include/product, the 400 and 422 cases) and pod billing (podId, bucketSize, startTime/endTime,
 * lastN, the 400 and 422 cases), raw requests through RawCaller, every answer validated against
 * openapi-v2.json. Pods, actions, logs, 401 and 429: sim-conformance-pods.test.ts.
 */

const describeSpec = specAvailable ? describe : describe.skip;
const SOLD_OUT = "NVIDIA H200";
const AVAILABILITY = "include=AVAILABILITY&product=POD";
const gpusOf = (json: unknown): Array<Record<string, unknown>> =>
  (field(json, "gpus") as Array<Record<string, unknown>> | undefined) ?? [];
const recordsOf = (json: unknown): Array<Record<string, unknown>> =>
  (field(json, "records") as Array<Record<string, unknown>> | undefined) ?? [];

describeSpec(specAvailable ? "runpod-sim conforms to openapi-v2.json: catalog and billing" : SPEC_SKIP_REASON, () => {
  const c = useConformanceSim();
  const raw = () => c.raw();

  describe("GET /v2/catalog/gpus", () => {
    it("lists every GPU type without availability, and with include=AVAILABILITY&product=POD", async () => {
      const plain = await raw().call("GET", "/catalog/gpus");
      expect(plain.status).toBe(200);
      expect(gpusOf(plain.json).length).toBeGreaterThan(20);
      expect(gpusOf(plain.json).every((g) => g.availability === undefined)).toBe(true);
      const stocked = await raw().call("GET", `/catalog/gpus?${AVAILABILITY}`);
      const levels = new Map(gpusOf(stocked.json).map((g) => [g.id, g.availability]));
      expect(levels.get(c.target().gpuTypeId)).toBe("HIGH");
      expect(levels.get(SOLD_OUT)).toBe("NONE");
    });

    it.each([
      ["count=2", "&count=2"],
      ["cloud=COMMUNITY", "&cloud=COMMUNITY"],
      ["countryCodes=US,CA", "&countryCodes=US,CA"],
      ["countryCodes=US,SE,JP", "&countryCodes=US,SE,JP"],
      ["a country with no data centre", "&countryCodes=ZZ"],
      ["cudaVersions=12.8", "&cudaVersions=12.8"],
      ["cudaVersions no host reports", "&cudaVersions=11.8"],
      ["minCudaVersion=12", "&minCudaVersion=12"],
      ["minCudaVersion=12.1", "&minCudaVersion=12.1"],
      ["product=POD,CLUSTER,SERVERLESS", ",CLUSTER,SERVERLESS"],
      ["everything", "&count=1&cloud=SECURE&countryCodes=US&minCudaVersion=12.4"],
    ])("200 with availability for %s", async (_what, extra) => {
      const answer = await raw().call("GET", `/catalog/gpus?${AVAILABILITY}${extra}`);
      expect(answer.status).toBe(200);
    });

    it.each([
      ["include without product", "?include=AVAILABILITY", /requires product/],
      ["product without include", "?product=POD", /valid only with include=AVAILABILITY/],
      ["count without include", "?count=2", /valid only with include=AVAILABILITY/],
      [
        "cloud and cudaVersions without include",
        "?cloud=SECURE&cudaVersions=12.8",
        /are valid only with include=AVAILABILITY/,
      ],
      [
        "cudaVersions with minCudaVersion",
        `?${AVAILABILITY}&cudaVersions=12.8&minCudaVersion=12.1`,
        /mutually exclusive/,
      ],
    ])("400 for %s", async (_what, query, detail) => {
      const answer = await raw().call("GET", `/catalog/gpus${query}`);
      expect(answer.status).toBe(400);
      expect(String(field(answer.json, "detail"))).toMatch(detail);
    });

    it.each([
      ["an unknown include", "?include=PRICES&product=POD", /include' \/0 must be equal to one of the allowed values/],
      ["two includes", "?include=AVAILABILITY,AVAILABILITY&product=POD", /include' must NOT have more than 1 items/],
      [
        "include repeated (the spec's style is one comma-separated value)",
        "?include=AVAILABILITY&include=AVAILABILITY&product=POD",
        /include' sent 2 times/,
      ],
      [
        "an unknown product",
        "?include=AVAILABILITY&product=VM",
        /product' \/0 must be equal to one of the allowed values/,
      ],
      ["count=0", `?${AVAILABILITY}&count=0`, /count' must be >= 1/],
      ["count=two", `?${AVAILABILITY}&count=two`, /count' must be integer/],
      ["an unknown cloud", `?${AVAILABILITY}&cloud=PRIVATE`, /cloud' must be equal to one of the allowed values/],
      ["a lower-case country code", `?${AVAILABILITY}&countryCodes=us`, /countryCodes' \/0 must match pattern/],
      ["a bad CUDA version", `?${AVAILABILITY}&cudaVersions=12`, /cudaVersions' \/0 must match pattern/],
      ["a bad minimum CUDA version", `?${AVAILABILITY}&minCudaVersion=twelve`, /minCudaVersion' must match pattern/],
    ])("422 for %s", async (_what, query, flagged) => {
      const answer = await raw().call("GET", `/catalog/gpus${query}`, { invalid: flagged });
      expect(answer.status).toBe(422);
    });
  });

  describe("GET /v2/catalog/gpus/{id}", () => {
    let ids: string[] = [];
    beforeAll(async () => {
      ids = gpusOf((await c.raw().call("GET", "/catalog/gpus")).json).map((g) => String(g.id));
    });

    it("answers every listed GPU type by id, without and with availability, as listed", async () => {
      expect(ids.length).toBeGreaterThan(20);
      for (const id of ids) {
        const path = `/catalog/gpus/${encodeURIComponent(id)}`;
        const plain = await raw().call("GET", path);
        expect([plain.status, field(plain.json, "id")]).toEqual([200, id]);
        const stocked = await raw().call("GET", `${path}?${AVAILABILITY}`);
        expect(field(stocked.json, "availability")).toEqual(expect.any(String));
      }
    });

    it("404 for an unknown id; 400 and 422 as for the list", async () => {
      expect((await raw().call("GET", "/catalog/gpus/NVIDIA%20NOT%20A%20GPU")).status).toBe(404);
      const id = encodeURIComponent(c.target().gpuTypeId);
      expect((await raw().call("GET", `/catalog/gpus/${id}?include=AVAILABILITY`)).status).toBe(400);
      expect((await raw().call("GET", `/catalog/gpus/${id}?count=1`)).status).toBe(400);
      expect(
        (await raw().call("GET", `/catalog/gpus/${id}?${AVAILABILITY}&count=0`, { invalid: /count' must be >= 1/ }))
          .status,
      ).toBe(422);
    });
  });

  describe("GET /v2/billing/pods", () => {
    let podId = "";
    let stoppedId = "";
    beforeAll(async () => {
      podId = await c.createPod("billed");
      stoppedId = await c.createPod("billed-stopped", { mounts: { persistent: { size: 50, path: "/workspace" } } });
      await c.waitForStatus(podId, "RUNNING");
      await c.waitForStatus(stoppedId, "RUNNING");
      await c.raw().call("POST", `/pods/${stoppedId}/action`, { body: { action: "stop" } });
    });

    it("the default window (last 30 days, by day) holds a record for each pod", async () => {
      const answer = await raw().call("GET", "/billing/pods");
      expect(answer.status).toBe(200);
      expect(recordsOf(answer.json).map((r) => r.podId)).toEqual(expect.arrayContaining([podId, stoppedId]));
    });

    it.each(["hour", "day", "week", "month", "year"])("podId with bucketSize=%s", async (bucketSize) => {
      const answer = await raw().call("GET", `/billing/pods?podId=${podId}&bucketSize=${bucketSize}`);
      expect(answer.status).toBe(200);
      const records = recordsOf(answer.json);
      expect(records.length).toBeGreaterThan(0);
      expect(records.every((r) => r.podId === podId)).toBe(true);
    });

    it("startTime and endTime (snapped to the buckets), lastN, and an unknown podId", async () => {
      const start = encodeURIComponent(new Date(Date.now() - 3 * 3600_000).toISOString());
      const end = encodeURIComponent(new Date(Date.now() + 3600_000).toISOString());
      const windowed = await raw().call(
        "GET",
        `/billing/pods?podId=${stoppedId}&bucketSize=hour&startTime=${start}&endTime=${end}`,
      );
      expect(recordsOf(windowed.json).length).toBeGreaterThan(0);
      const offsetTime = encodeURIComponent("2026-01-01T00:00:00+02:00");
      expect((await raw().call("GET", `/billing/pods?startTime=${offsetTime}`)).status).toBe(200);
      expect((await raw().call("GET", "/billing/pods?lastN=3&bucketSize=day")).status).toBe(200);
      expect((await raw().call("GET", `/billing/pods?lastN=1&bucketSize=hour&podId=${podId}`)).status).toBe(200);
      const none = await raw().call("GET", "/billing/pods?podId=nosuchpod");
      expect([none.status, recordsOf(none.json)]).toEqual([200, []]);
    });

    it.each([
      ["lastN with startTime", "?lastN=2&startTime=2026-01-01T00:00:00Z", /mutually exclusive/],
      ["lastN with endTime", "?lastN=2&endTime=2026-01-01T00:00:00Z", /mutually exclusive/],
      ["startTime after endTime", "?startTime=2026-02-01T00:00:00Z&endTime=2026-01-01T00:00:00Z", /before endTime/],
    ])("400 for %s", async (_what, query, detail) => {
      const answer = await raw().call("GET", `/billing/pods${query}`);
      expect(answer.status).toBe(400);
      expect(String(field(answer.json, "detail"))).toMatch(detail);
    });

    it.each([
      ["an unknown bucketSize", "?bucketSize=minute", /bucketSize' must be equal to one of the allowed values/],
      ["a startTime that is not RFC 3339", "?startTime=yesterday", /startTime' must match format "date-time"/],
      ["an endTime without a zone", "?endTime=2026-01-01T00:00:00", /endTime' must match format "date-time"/],
      ["lastN=0", "?lastN=0", /lastN' must be >= 1/],
      ["lastN=many", "?lastN=many", /lastN' must be integer/],
    ])("422 for %s", async (_what, query, flagged) => {
      const answer = await raw().call("GET", `/billing/pods${query}`, { invalid: flagged });
      expect(answer.status).toBe(422);
    });
  });

  describe("spec routes the simulator does not serve", () => {
    it.each([
      ["GET", "/templates"],
      ["GET", "/catalog/datacenters"],
      ["GET", "/billing"],
      ["GET", "/clusters"],
    ])("%s %s answers a spec-shaped 404 problem", async (method, path) => {
      const answer = await raw().call(method, path);
      expect([answer.status, field(answer.json, "status")]).toEqual([404, 404]);
    });
  });

  conformanceClosingCheck(c, "sim-conformance-catalog.test.ts");
});
