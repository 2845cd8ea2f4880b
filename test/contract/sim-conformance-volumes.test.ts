import { conformanceClosingCheck, useConformanceSim } from "./conformance-sim";
import { field } from "./raw-caller";
import { specAvailable, SPEC_SKIP_REASON } from "./spec/openapi-validator";

/**
 * The simulator's side of the contract, part 3 (issue 28): network volumes (list, create, get, update, delete, the
 * 400, 404 and 422 cases) and a pod's network mount (one volume, never with a persistent mount, Secure Cloud only, in
 * the volume's data centre), raw requests through RawCaller, every answer validated against openapi-v2.json.
 */

const describeSpec = specAvailable ? describe : describe.skip;
const volumesOf = (json: unknown): Array<Record<string, unknown>> =>
  (field(json, "networkVolumes") as Array<Record<string, unknown>> | undefined) ?? [];

describeSpec(specAvailable ? "runpod-sim conforms to openapi-v2.json: network volumes" : SPEC_SKIP_REASON, () => {
  const c = useConformanceSim();
  const raw = () => c.raw();
  const create = async (body: Record<string, unknown>) => {
    const answer = await raw().call("POST", "/network-volumes", { body });
    expect(answer.status).toBe(201);
    return String(field(answer.json, "id"));
  };

  describe("the volume routes", () => {
    it("creates, lists, reads, grows, renames and deletes a volume", async () => {
      const id = await create({ name: "trainpod-cache-EU-RO-1", size: 50, dataCenter: "EU-RO-1" });
      const got = await raw().call("GET", `/network-volumes/${id}`);
      expect(got.json).toEqual({
        id,
        name: "trainpod-cache-EU-RO-1",
        size: 50,
        dataCenter: "EU-RO-1",
        type: "STANDARD",
      });
      const listed = await raw().call("GET", "/network-volumes");
      expect(volumesOf(listed.json).map((v) => v.id)).toContain(id);
      const grown = await raw().call("PATCH", `/network-volumes/${id}`, { body: { size: 200 } });
      expect([grown.status, field(grown.json, "size")]).toEqual([200, 200]);
      const renamed = await raw().call("PATCH", `/network-volumes/${id}`, { body: { name: "renamed" } });
      expect([renamed.status, field(renamed.json, "name"), field(renamed.json, "size")]).toEqual([200, "renamed", 200]);
      expect((await raw().call("DELETE", `/network-volumes/${id}`)).status).toBe(204);
      expect((await raw().call("GET", `/network-volumes/${id}`)).status).toBe(404);
      expect((await raw().call("DELETE", `/network-volumes/${id}`)).status).toBe(404);
    });

    it("keeps the tier asked for (HIGH_PERFORMANCE)", async () => {
      const id = await create({ name: "fast", size: 10, dataCenter: "US-KS-2", type: "HIGH_PERFORMANCE" });
      expect(field((await raw().call("GET", `/network-volumes/${id}`)).json, "type")).toBe("HIGH_PERFORMANCE");
    });

    it.each([
      ["size below 10 GB", { name: "v", size: 5, dataCenter: "EU-RO-1" }, /size/],
      ["size above 4096 GB", { name: "v", size: 5000, dataCenter: "EU-RO-1" }, /size/],
      ["no dataCenter", { name: "v", size: 10 }, /dataCenter/],
      ["an empty name", { name: "", size: 10, dataCenter: "EU-RO-1" }, /name/],
      ["an unknown field", { name: "v", size: 10, dataCenter: "EU-RO-1", bogus: 1 }, /bogus/],
      ["an unknown tier", { name: "v", size: 10, dataCenter: "EU-RO-1", type: "FAST" }, /type/],
    ])("422 for %s", async (_what, body, flagged) => {
      const answer = await raw().call("POST", "/network-volumes", { body, invalid: flagged });
      expect(answer.status).toBe(422);
    });

    it("400 for an unknown data centre, and for a size that shrinks", async () => {
      const unknown = await raw().call("POST", "/network-volumes", {
        body: { name: "v", size: 10, dataCenter: "MARS-1" },
      });
      expect(unknown.status).toBe(400);
      const id = await create({ name: "v", size: 100, dataCenter: "EU-RO-1" });
      const shrink = await raw().call("PATCH", `/network-volumes/${id}`, { body: { size: 50 } });
      expect(shrink.status).toBe(400);
      expect(String(field(shrink.json, "detail"))).toMatch(/only grow/);
    });

    it("422 for an empty PATCH body; 404 for an unknown volume", async () => {
      const id = await create({ name: "v", size: 10, dataCenter: "EU-RO-1" });
      const empty = await raw().call("PATCH", `/network-volumes/${id}`, { body: {}, invalid: /fewer than 1/ });
      expect(empty.status).toBe(422);
      expect((await raw().call("GET", "/network-volumes/nosuchvolume")).status).toBe(404);
      expect((await raw().call("PATCH", "/network-volumes/nosuchvolume", { body: { size: 20 } })).status).toBe(404);
    });

    it("lists many volumes, each answer the spec's shape", async () => {
      const ids = await Promise.all(
        Array.from({ length: 12 }, (_, i) => create({ name: `bulk-${i}`, size: 10 + i, dataCenter: "US-TX-3" })),
      );
      for (let i = 0; i < 40; i++) {
        const listed = await raw().call("GET", "/network-volumes");
        expect(volumesOf(listed.json).length).toBeGreaterThanOrEqual(ids.length);
      }
      for (const id of ids) expect((await raw().call("GET", `/network-volumes/${id}`)).status).toBe(200);
    });
  });

  describe("a pod's network mount", () => {
    it("places the pod in the volume's data centre and shows the mount", async () => {
      const vol = await create({ name: "cache", size: 50, dataCenter: "US-KS-2" });
      const id = await c.createPod("mounted", { mounts: { network: [{ volumeId: vol, path: "/trainpod-cache" }] } });
      const pod = (await raw().call("GET", `/pods/${id}`)).json;
      expect(field(pod, "dataCenterId")).toBe("US-KS-2");
      expect(field(pod, "mounts")).toEqual({ network: [{ volumeId: vol, path: "/trainpod-cache" }] });
      const inUse = await raw().call("DELETE", `/network-volumes/${vol}`);
      expect(inUse.status).toBe(400);
      expect(String(field(inUse.json, "detail"))).toMatch(/mounted by pod/);
      expect((await raw().call("DELETE", `/pods/${id}`)).status).toBe(204);
      expect((await raw().call("DELETE", `/network-volumes/${vol}`)).status).toBe(204);
    });

    it.each([
      ["an unknown volume", () => ({ mounts: { network: [{ volumeId: "nosuch", path: "/c" }] } }), /does not exist/],
      [
        "Community Cloud",
        (v: string) => ({ cloud: "COMMUNITY", mounts: { network: [{ volumeId: v, path: "/c" }] } }),
        /Secure Cloud/,
      ],
      [
        "a data centre list without the volume's",
        (v: string) => ({ dataCenterIds: ["US-TX-3"], mounts: { network: [{ volumeId: v, path: "/c" }] } }),
        /leaves out/,
      ],
      [
        "a persistent mount beside it",
        (v: string) => ({
          mounts: { persistent: { size: 20, path: "/workspace" }, network: [{ volumeId: v, path: "/c" }] },
        }),
        /mutually exclusive/,
      ],
    ])("400 for %s", async (_what, body, detail) => {
      const vol = await create({ name: "cache", size: 10, dataCenter: "EU-RO-1" });
      const answer = await raw().call("POST", "/pods", {
        body: {
          name: `${c.target().namePrefix}bad-mount`,
          image: "trainpod/conformance:1",
          gpu: { id: c.target().gpuTypeId, count: 1 },
          ...body(vol),
        },
      });
      expect(answer.status).toBe(400);
      expect(String(field(answer.json, "detail"))).toMatch(detail);
    });

    it("422 for two network mounts (maxItems 1)", async () => {
      const a = await create({ name: "a", size: 10, dataCenter: "EU-RO-1" });
      const answer = await raw().call("POST", "/pods", {
        body: {
          name: `${c.target().namePrefix}two-mounts`,
          image: "trainpod/conformance:1",
          gpu: { id: c.target().gpuTypeId, count: 1 },
          mounts: {
            network: [
              { volumeId: a, path: "/a" },
              { volumeId: a, path: "/b" },
            ],
          },
        },
        invalid: /more than 1 item/,
      });
      expect(answer.status).toBe(422);
    });
  });

  conformanceClosingCheck(c, "sim-conformance-volumes.test.ts");
});
