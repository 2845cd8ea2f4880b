import { conformanceClosingCheck, useConformanceSim } from "./conformance-sim";
import { field } from "./raw-caller";
import { specAvailable, SPEC_SKIP_REASON } from "./spec/openapi-validator";

/**
 * The simulator's side of the contract, part 1: raw requests (valid and deliberately invalid) to
 * every pod route it serves — create, list, get, delete, action, logs (SSE) — plus 401s, 404s,
 * 405, 422s and 429s, each answer validated against openapi-v2.json by RawCaller (which fails the
 * call on any response violation). Catalog and billing: sim-conformance-catalog.test.ts.
 */

const describeSpec = specAvailable ? describe : describe.skip;
const SOLD_OUT = "NVIDIA H200";
const FORBIDDEN = "NVIDIA B200";
const NO_KEY = /requires bearerAuth: no Authorization: Bearer header/;
const CHATTY = `bash -c 'while true; do echo conformance-tick; sleep 0.2; done'`;
const events = (text: string): number => (text.match(/^id: /gm) ?? []).length;

describeSpec(specAvailable ? "runpod-sim conforms to openapi-v2.json: pods, actions, logs" : SPEC_SKIP_REASON, () => {
  const c = useConformanceSim();
  const raw = () => c.raw();
  const problemDetail = (json: unknown): string => String(field(json, "detail"));

  describe("POST /v2/pods", () => {
    it("201 for a minimal body and for one using every field the sim supports", async () => {
      await c.createPod("minimal");
      const full = {
        cloud: "COMMUNITY",
        args: CHATTY,
        disk: 20,
        env: { A: "1", B: "two" },
        ports: ["8888/http", "22/tcp", "5000/udp"],
        registry: null,
        dataCenterIds: ["US-TX-3", "EU-RO-1"],
        globalNetworking: true,
        startSsh: true,
        startJupyter: true,
        gpu: { id: c.target().gpuTypeId, count: 2, allowedCudaVersions: ["12.8", "12.6"] },
        mounts: { persistent: { size: 20, path: "/workspace" } },
      };
      await c.createPod("full", full);
      // a network mount names a volume that exists, and the pod goes to its data centre (the volume routes' own
      // cases: sim-conformance-volumes.test.ts)
      const volume = await raw().call("POST", "/network-volumes", {
        body: { name: "conformance", size: 10, dataCenter: "EU-RO-1" },
      });
      expect(volume.status).toBe(201);
      await c.createPod("network", {
        gpu: { id: c.target().gpuTypeId, minCudaVersion: "12.1" },
        dataCenterIds: ["EU-RO-1"],
        mounts: { network: [{ volumeId: String(field(volume.json, "id")), path: "/data" }] },
      });
      await c.createPod("cuda-floor-and-empty-set", {
        gpu: { id: c.target().gpuTypeId, allowedCudaVersions: [], minCudaVersion: "12.8" },
      });
    });

    it.each([
      ["an unknown field (v1's gpuTypeIds)", { gpuTypeIds: ["NVIDIA RTX A4000"] }, /gpuTypeIds|unevaluated/],
      ["a wrong type", { name: 5 }, /\/name must be string/],
      ["a bad enum", { cloud: "PRIVATE" }, /\/cloud must be equal to one of the allowed values/],
      [
        "a bad CUDA pattern",
        { gpu: { id: "NVIDIA RTX A4000", allowedCudaVersions: ["12"] } },
        /allowedCudaVersions\/0 must match pattern/,
      ],
      ["a persistent mount under 10 GB", { mounts: { persistent: { size: 5, path: "/w" } } }, /size must be >= 10/],
      [
        "two network mounts",
        {
          mounts: {
            network: [
              { volumeId: "a", path: "/a" },
              { volumeId: "b", path: "/b" },
            ],
          },
        },
        /network must NOT have more than 1 items/,
      ],
      ["gpu.count 0", { gpu: { id: "NVIDIA RTX A4000", count: 0 } }, /count must be >= 1/],
    ])("422 + errors for %s", async (_what, patch, flagged) => {
      const body = { name: "conformance-bad", image: "x:1", gpu: { id: "NVIDIA RTX A4000" }, ...patch };
      const answer = await raw().call("POST", "/pods", { body, invalid: flagged });
      expect(answer.status).toBe(422);
      expect(field(answer.json, "errors")).toEqual(expect.arrayContaining([expect.any(String)]));
    });

    it("422 when name or image is missing, or the body is not an object", async () => {
      expect(
        (
          await raw().call("POST", "/pods", {
            body: { image: "x:1", gpu: { id: "NVIDIA RTX A4000" } },
            invalid: /required property 'name'/,
          })
        ).status,
      ).toBe(422);
      expect(
        (
          await raw().call("POST", "/pods", {
            body: { name: "n", gpu: { id: "NVIDIA RTX A4000" } },
            invalid: /required property 'image'/,
          })
        ).status,
      ).toBe(422);
      expect((await raw().call("POST", "/pods", { body: [], invalid: /must be object/ })).status).toBe(422);
    });

    it("400 for a body that is not JSON", async () => {
      const answer = await raw().call("POST", "/pods", { body: "{not json", invalid: /not valid JSON/ });
      expect(answer.status).toBe(400);
    });

    it.each([
      ["both gpu and cpu", { cpu: { id: "cpu5c", vcpuCount: 4 } }, /exactly one of gpu or cpu/],
      ["a CPU pod", { gpu: undefined, cpu: { id: "cpu5c", vcpuCount: 4 } }, /CPU pods/],
      ["neither gpu nor cpu", { gpu: undefined }, /exactly one of gpu or cpu/],
      ["a templateId", { templateId: "30zmvf89kd" }, /templates are not supported/],
      [
        "allowedCudaVersions with minCudaVersion",
        { gpu: { id: "NVIDIA RTX A4000", allowedCudaVersions: ["12.8"], minCudaVersion: "12.1" } },
        /mutually exclusive/,
      ],
      [
        "persistent and network mounts",
        { mounts: { persistent: { size: 10, path: "/w" }, network: [{ volumeId: "v", path: "/n" }] } },
        /mutually exclusive/,
      ],
      ["a port without a protocol", { ports: ["8888"] }, /port\/protocol/],
      ["unparseable args", { args: "echo 'unterminated" }, /unterminated single quote/],
      ["an unknown GPU type", { gpu: { id: "NVIDIA NOT A GPU 9000" } }, /does not exist/],
      ["gpu.count over maxCount", { gpu: { id: "NVIDIA RTX A4000", count: 9 } }, /exceeds/],
      [
        "a CUDA version no host reports",
        { gpu: { id: "NVIDIA RTX A4000", allowedCudaVersions: ["11.8"] } },
        /no longer any instances/,
      ],
      ["only unknown data centres", { dataCenterIds: ["XX-NOWHERE-1"] }, /no longer any instances/],
      [
        "a sold-out GPU type",
        { gpu: { id: SOLD_OUT } },
        /There are no longer any instances available with the requested specifications/,
      ],
    ])("400 for %s", async (_what, patch, detail) => {
      const body = { name: "conformance-rule", image: "x:1", gpu: { id: "NVIDIA RTX A4000" }, ...patch };
      const answer = await raw().call("POST", "/pods", { body });
      expect(answer.status).toBe(400);
      expect(problemDetail(answer.json)).toMatch(detail);
    });

    it("402 when the balance is spent, 403 for a forbidden GPU pool", async () => {
      const body = { name: "conformance-money", image: "x:1", gpu: { id: "NVIDIA RTX A4000" } };
      await c.sim().configure({ balanceUsd: 0 });
      try {
        expect((await raw().call("POST", "/pods", { body })).status).toBe(402);
      } finally {
        await c.sim().configure({ balanceUsd: null });
      }
      expect((await raw().call("POST", "/pods", { body: { ...body, gpu: { id: FORBIDDEN } } })).status).toBe(403);
    });
  });

  describe("GET /v2/pods, GET|DELETE|PATCH /v2/pods/{id}", () => {
    it("lists the live pods in {pods}, with includeClusterPods true or false; 422 for a non-boolean", async () => {
      for (const query of ["", "?includeClusterPods=true", "?includeClusterPods=false"]) {
        const answer = await raw().call("GET", `/pods${query}`);
        expect(answer.status).toBe(200);
        expect(field(answer.json, "pods")).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: expect.stringContaining("minimal") })]),
        );
      }
      expect((await raw().call("GET", "/pods?includeClusterPods=maybe", { invalid: /must be boolean/ })).status).toBe(
        422,
      );
    });

    it("answers a Pod in each status: PROVISIONING, RUNNING, EXITED (stopped, and exited by itself), ERROR, and 404 once TERMINATED", async () => {
      // PROVISIONING lasts the first half of the boot delay: long enough for the GET below on a busy machine
      await c.sim().configure({ bootDelayMs: 3_000 });
      const id = await c.createPod("statuses", { args: CHATTY, ports: ["22/tcp", "8888/http"] });
      try {
        expect(field((await raw().call("GET", `/pods/${id}`)).json, "status")).toBe("PROVISIONING");
      } finally {
        await c.sim().configure({ bootDelayMs: 50 });
      }
      await c.waitForStatus(id, "RUNNING");
      const running = (await raw().call("GET", `/pods/${id}`)).json;
      expect(field(field(running, "runtime"), "ports")).toEqual(expect.any(Array));
      expect((await raw().call("POST", `/pods/${id}/action`, { body: { action: "stop" } })).status).toBe(200);
      expect(field((await raw().call("GET", `/pods/${id}`)).json, "status")).toBe("EXITED");

      await c.sim().configure({ restartPolicy: "never" });
      try {
        const exits = await c.createPod("exits", { args: "bash -c 'exit 3'" });
        await c.waitForStatus(exits, "EXITED");
      } finally {
        await c.sim().configure({ restartPolicy: "always" });
      }
      const broken = await c.createPod("unpullable", { image: "sim/unpullable/conformance:1" });
      await c.waitForStatus(broken, "ERROR");

      expect((await raw().call("DELETE", `/pods/${id}`)).status).toBe(204);
      expect((await raw().call("GET", `/pods/${id}`)).status).toBe(404);
      expect((await raw().call("DELETE", `/pods/${id}`)).status).toBe(404);
    });

    it("404 for an unknown pod on every pod route", async () => {
      expect((await raw().call("GET", "/pods/nosuchpod")).status).toBe(404);
      expect((await raw().call("DELETE", "/pods/nosuchpod")).status).toBe(404);
      expect((await raw().call("POST", "/pods/nosuchpod/action", { body: { action: "stop" } })).status).toBe(404);
      expect((await raw().call("GET", "/pods/nosuchpod/logs")).status).toBe(404);
    });

    it("405 with Allow for PATCH (not implemented by the sim)", async () => {
      const answer = await raw().call("PATCH", "/pods/nosuchpod", { body: { name: "renamed" } });
      expect(answer.status).toBe(405);
      expect(answer.headers.get("allow")).toMatch(/GET/);
    });
  });

  describe("POST /v2/pods/{id}/action", () => {
    it("200 + Pod for stop, start and restart; 204 for terminate; 409 for an action the status does not allow", async () => {
      const id = await c.createPod("actions", { args: CHATTY });
      await c.waitForStatus(id, "RUNNING");
      const act = (action: string) => raw().call("POST", `/pods/${id}/action`, { body: { action } });
      expect((await act("start")).status).toBe(409);
      expect((await act("restart")).status).toBe(200);
      await c.waitForStatus(id, "RUNNING");
      const stopped = await act("stop");
      expect([stopped.status, field(stopped.json, "status")]).toEqual([200, "EXITED"]);
      expect((await act("stop")).status).toBe(409);
      expect((await act("start")).status).toBe(200);
      await c.waitForStatus(id, "RUNNING");
      const terminated = await act("terminate");
      expect([terminated.status, terminated.text]).toEqual([204, ""]);
      expect((await act("start")).status).toBe(404);
    });

    it("422 for a bad action, a missing action, an extra field, or no body", async () => {
      const id = await c.createPod("bad-actions");
      expect(
        (
          await raw().call("POST", `/pods/${id}/action`, {
            body: { action: "fly" },
            invalid: /\/action must be equal to one of the allowed values/,
          })
        ).status,
      ).toBe(422);
      expect(
        (await raw().call("POST", `/pods/${id}/action`, { body: {}, invalid: /required property 'action'/ })).status,
      ).toBe(422);
      expect(
        (
          await raw().call("POST", `/pods/${id}/action`, {
            body: { action: "stop", force: true },
            invalid: /additional properties/,
          })
        ).status,
      ).toBe(422);
      expect((await raw().call("POST", `/pods/${id}/action`, { invalid: /requires a request body/ })).status).toBe(422);
    });

    it("400 for starting a stopped pod whose GPUs were taken meanwhile", async () => {
      const type = "NVIDIA RTX A5000";
      await c.sim().configure({ capacity: { [type]: 1 } });
      const first = await c.createPod("resume-a", { gpu: { id: type } });
      expect((await raw().call("POST", `/pods/${first}/action`, { body: { action: "stop" } })).status).toBe(200);
      await c.createPod("resume-b", { gpu: { id: type } });
      const answer = await raw().call("POST", `/pods/${first}/action`, { body: { action: "start" } });
      expect(answer.status).toBe(400);
      expect(problemDetail(answer.json)).toContain("not enough free GPUs");
    });
  });

  describe("GET /v2/pods/{id}/logs (Server-Sent Events)", () => {
    let id = "";
    beforeAll(async () => {
      id = await c.createPod("logs", { args: CHATTY });
      await c.waitForStatus(id, "RUNNING");
      await c.raw().stream(`/pods/${id}/logs?source=container&tail=0`, { until: (t) => events(t) >= 3 });
    });

    it.each([
      ["both sources, default tail", ""],
      ["source=container&tail=5", "?source=container&tail=5"],
      ["source=system", "?source=system"],
      ["tail=0 (live lines only)", "?tail=0"],
      ["tail=5000", "?tail=5000"],
      ["since an RFC 3339 time", `?since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`],
    ])("200 event stream for %s", async (_what, query) => {
      const answer = await raw().stream(`/pods/${id}/logs${query}`, { until: (t) => events(t) >= 3 });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(events(answer.text)).toBeGreaterThanOrEqual(3);
    });

    it("resumes after a Last-Event-ID: the <ts>/<seq> id it sent, or a bare timestamp", async () => {
      const first = await raw().stream(`/pods/${id}/logs?source=container&tail=2`, { until: (t) => events(t) >= 2 });
      const ids = [...first.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1] ?? "");
      const bySeq = await raw().stream(`/pods/${id}/logs?source=container`, {
        headers: { "Last-Event-ID": ids[0] ?? "" },
        until: (t) => events(t) >= 1,
      });
      expect(bySeq.text.match(/^id: (.+)$/m)?.[1]).toBe(ids[1]);
      const stamp = (ids[0] ?? "").split("/")[0] ?? "";
      const byTime = await raw().stream(`/pods/${id}/logs?source=container`, {
        headers: { "Last-Event-ID": stamp },
        until: (t) => events(t) >= 1,
      });
      expect(byTime.status).toBe(200);
    });

    it.each([
      ["tail over 5000", "?tail=5001", {}, /tail' must be <= 5000/],
      ["a negative tail", "?tail=-1", {}, /tail' must be >= 0/],
      ["an unknown source", "?source=stdout", {}, /source' must be equal to one of the allowed values/],
      ["a since that is not RFC 3339", "?since=yesterday", {}, /since' must match format "date-time"/],
      [
        "a Last-Event-ID that is neither form",
        "",
        { "Last-Event-ID": "garbage" },
        /Last-Event-ID' must match format "date-time"/,
      ],
    ])("422 for %s", async (_what, query, headers, flagged) => {
      const answer = await raw().call("GET", `/pods/${id}/logs${query}`, { headers, invalid: flagged });
      expect(answer.status).toBe(422);
    });

    it("the stream of a terminated pod ends after the final system line, and every event conforms", async () => {
      const doomed = await c.createPod("logs-end", { args: CHATTY });
      await c.waitForStatus(doomed, "RUNNING");
      let streaming: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (streaming = resolve));
      // read to the end (never cancelled), noting when the first event has arrived
      const reading = raw().stream(`/pods/${doomed}/logs?tail=1`, {
        until: (t) => {
          if (events(t) >= 1) streaming();
          return false;
        },
      });
      await Promise.race([started, reading]);
      expect((await raw().call("DELETE", `/pods/${doomed}`)).status).toBe(204);
      const ended = await reading;
      expect(ended.text).toMatch(/"source":"system","line":"pod terminated"\}\n\n$/);
    });
  });

  describe("authentication and quota", () => {
    const routes = (id: string): Array<[string, string, unknown]> => [
      ["GET", "/pods", undefined],
      ["POST", "/pods", { name: "n", image: "x:1", gpu: { id: "NVIDIA RTX A4000" } }],
      ["GET", `/pods/${id}`, undefined],
      ["DELETE", `/pods/${id}`, undefined],
      ["POST", `/pods/${id}/action`, { action: "stop" }],
      ["GET", `/pods/${id}/logs`, undefined],
      ["GET", "/catalog/gpus", undefined],
      ["GET", "/catalog/gpus/NVIDIA%20RTX%20A4000", undefined],
      ["GET", "/billing/pods", undefined],
    ];

    it("401 on every route without a key (and no quota headers), and with a wrong key", async () => {
      const id = await c.createPod("auth");
      for (const [method, path, body] of routes(id)) {
        const none = await raw().call(method, path, { body, key: null, invalid: NO_KEY });
        expect([none.status, none.headers.get("ratelimit")]).toEqual([401, null]);
        expect(problemDetail(none.json)).toBe("missing bearer token");
        expect((await raw().call(method, path, { body, key: "rpa_WRONG" })).status).toBe(401);
      }
    });

    it("429 + Retry-After on every route past the quota, and for an injected rateLimit fault", async () => {
      const id = await c.createPod("quota");
      await c.sim().configure({ quota: { minute: 1 } });
      try {
        for (const [method, path, body] of routes(id)) {
          // refused calls do not count; at most one call can still fit if a new minute has just begun
          let answer = await raw().call(method, path, { body });
          if (answer.status !== 429) answer = await raw().call(method, path, { body });
          expect(answer.status).toBe(429);
          expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
          expect(problemDetail(answer.json)).toBe("rate limit exceeded for the minute window");
        }
      } finally {
        await c.sim().configure({ quota: { minute: 6000 } });
      }
      await c.sim().configure({ faults: { rateLimit: 1, retryAfterSeconds: 2 } });
      try {
        for (const [method, path, body] of routes(id)) {
          const answer = await raw().call(method, path, { body });
          expect([answer.status, answer.headers.get("retry-after")]).toEqual([429, "2"]);
          expect(answer.headers.get("ratelimit")).toMatch(/^"minute";r=\d+;t=\d+/);
        }
      } finally {
        await c.sim().configure({ faults: { rateLimit: 0 } });
      }
    });
  });

  conformanceClosingCheck(c, "sim-conformance-pods.test.ts");
});
