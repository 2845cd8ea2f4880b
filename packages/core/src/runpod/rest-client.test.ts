import { Writable } from "node:stream";
import winston from "winston";
import { createLogger } from "../logging/logger";
import { BadRequestError, BadResponseError, NoCapacityError, RunPodUnavailableError, UnauthorizedError } from "./errors";
import type { RunPodCallInfo } from "./http";
import { RunPodRestClient, type RunPodRestClientOptions } from "./rest-client";

const KEY = "rpa_UNITTESTKEY_0123456789abcdef";
const pod = { id: "p1", name: "trainpod-d1", desiredStatus: "RUNNING", costPerHr: 0.74 };
const input = { name: "trainpod-d1", imageName: "img", gpuTypeIds: ["NVIDIA A40"] };

type Step = Response | Error;
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const drop = (): Error => new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) });

function harness(steps: Step[], options: Partial<RunPodRestClientOptions> = {}) {
  const requests: Array<{ url: string; method: string; headers: Record<string, string>; body: unknown }> = [];
  const slept: number[] = [];
  const calls: RunPodCallInfo[] = [];
  const fakeFetch: typeof fetch = async (url, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    requests.push({ url: String(url), method: init?.method ?? "GET", headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const step = steps.shift();
    if (step === undefined) throw new Error("no more scripted answers");
    if (step instanceof Error) throw step;
    return step;
  };
  const client = new RunPodRestClient({
    baseUrl: "https://rest.example/v1/",
    apiKey: KEY,
    fetch: fakeFetch,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    rateLimitPerSecond: 1_000,
    rateLimitBurst: 100,
    onCall: (info) => calls.push(info),
    ...options,
  });
  return { client, requests, slept, calls };
}

describe("RunPodRestClient (fake fetch)", () => {
  it("creates a pod: POST /pods with the bearer key and the body, 201 parsed", async () => {
    const { client, requests, calls } = harness([json(201, pod)]);
    await expect(client.createPod(input)).resolves.toMatchObject({ id: "p1", costPerHr: 0.74 });
    expect(requests[0]).toMatchObject({ url: "https://rest.example/v1/pods", method: "POST", body: input });
    expect(requests[0]?.headers.Authorization).toBe(`Bearer ${KEY}`);
    expect(calls).toEqual([{ endpoint: "/pods", method: "POST", status: 201, durationMs: expect.any(Number), attempt: 1 }]);
  });

  it("checks the create input before sending anything", async () => {
    const { client, requests } = harness([]);
    await expect(client.createPod({ ...input, gpuCount: 1.5 })).rejects.toBeInstanceOf(BadRequestError);
    expect(requests).toHaveLength(0);
  });

  it("does not repeat a create whose connection dropped (the pod may exist)", async () => {
    const { client, requests } = harness([drop(), json(201, pod)]);
    const err = await client.createPod(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunPodUnavailableError);
    expect((err as RunPodUnavailableError).reason).toBe("network");
    expect(requests).toHaveLength(1);
  });

  it("does not repeat a create answered 500, but does repeat it when the caller opted in", async () => {
    const plain = harness([json(500, { error: "boom", status: 500 })]);
    await expect(plain.client.createPod(input)).rejects.toBeInstanceOf(RunPodUnavailableError);
    const optedIn = harness([drop(), json(500, { error: "boom" }), json(201, pod)], { retryCreateOnNetworkError: true });
    await expect(optedIn.client.createPod(input)).resolves.toMatchObject({ id: "p1" });
    expect(optedIn.slept).toEqual([100, 200]);
  });

  it("repeats a create refused with 429, waiting Retry-After", async () => {
    const { client, slept, calls } = harness([json(429, { error: "too many" }, { "retry-after": "2" }), json(201, pod)]);
    await expect(client.createPod(input)).resolves.toMatchObject({ id: "p1" });
    expect(slept).toEqual([2_000]);
    expect(calls.map((c) => [c.status, c.attempt])).toEqual([[429, 1], [201, 2]]);
  });

  it("reports no capacity at once, without retrying", async () => {
    const { client, requests } = harness([json(500, { error: "create pod: There are no instances currently available", status: 500 })]);
    await expect(client.createPod(input)).rejects.toBeInstanceOf(NoCapacityError);
    expect(requests).toHaveLength(1);
  });

  it("retries reads on 5xx and drops with backoff, then gives up after maxRetries", async () => {
    const { client, slept } = harness([json(502, "bad gateway"), drop(), json(200, pod)]);
    await expect(client.getPod("p1")).resolves.toMatchObject({ id: "p1" });
    expect(slept).toEqual([100, 200]);
    const failing = harness(Array.from({ length: 3 }, () => json(503, { error: "down" })), { maxRetries: 2 });
    await expect(failing.client.getPod("p1")).rejects.toBeInstanceOf(RunPodUnavailableError);
    expect(failing.requests).toHaveLength(3);
  });

  it("getPod answers null on 404 and encodes the id", async () => {
    const { client, requests } = harness([json(404, { error: "pod not found" })]);
    await expect(client.getPod("a/b")).resolves.toBeNull();
    expect(requests[0]?.url).toBe("https://rest.example/v1/pods/a%2Fb");
  });

  it("turns an unexpected body into BadResponseError naming the field, not the body", async () => {
    const { client } = harness([json(200, { ...pod, id: undefined, env: { RUN_TOKEN: "tp_run_SECRETVALUE123" } })]);
    const err = await client.getPod("p1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadResponseError);
    expect((err as BadResponseError).message).toMatch(/GET \/pods\/\{podId\} answered 200 with an unexpected body: id:/);
    expect(JSON.stringify(err) + String(err)).not.toContain("SECRETVALUE");
    const notJson = harness([new Response("<html>", { status: 200 })]);
    await expect(notJson.client.listPods()).rejects.toThrow("with a body that is not JSON");
  });

  it("lists with desiredStatus sent to RunPod and the name prefix applied client-side", async () => {
    const pods = [pod, { ...pod, id: "p2", name: "other-1" }, { ...pod, id: "p3", name: "trainpod-d3" }];
    const { client, requests } = harness([json(200, pods)]);
    const found = await client.listPods({ namePrefix: "trainpod-", desiredStatus: "RUNNING" });
    expect(found.map((p) => p.id)).toEqual(["p1", "p3"]);
    expect(requests[0]?.url).toBe("https://rest.example/v1/pods?desiredStatus=RUNNING");
  });

  it("terminates idempotently: 204, then 404 counts as already gone", async () => {
    const { client, requests } = harness([json(204, null), json(404, { error: "not found" })]);
    await expect(client.terminatePod("p1")).resolves.toEqual({ alreadyGone: false });
    await expect(client.terminatePod("p1")).resolves.toEqual({ alreadyGone: true });
    expect(requests.map((r) => r.method)).toEqual(["DELETE", "DELETE"]);
  });

  it("terminate: a 400 for a pod RunPod no longer has, or has terminated, counts as done", async () => {
    const gone = harness([json(400, { error: "Invalid Pod ID" }), json(404, { error: "not found" })]);
    await expect(gone.client.terminatePod("p9")).resolves.toEqual({ alreadyGone: true });
    const terminated = harness([json(400, { error: "already terminated" }), json(200, { ...pod, desiredStatus: "TERMINATED" })]);
    await expect(terminated.client.terminatePod("p1")).resolves.toEqual({ alreadyGone: true });
    const alive = harness([json(400, { error: "locked" }), json(200, pod)]);
    await expect(alive.client.terminatePod("p1")).rejects.toBeInstanceOf(BadRequestError);
  });

  it("stops a pod", async () => {
    const { client, requests } = harness([json(200, {})]);
    await client.stopPod("p1");
    expect(requests[0]).toMatchObject({ url: "https://rest.example/v1/pods/p1/stop", method: "POST" });
  });

  it("keeps the key out of errors and logs", async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
    const logger = createLogger({ service: "t", level: "debug", transports: [new winston.transports.Stream({ stream })] });
    const { client } = harness([json(401, { error: `bad key ${KEY}` }), drop(), drop()], { logger, maxRetries: 1 });
    const err = await client.getPod("p1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    const dropped = await client.listPods().catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(RunPodUnavailableError);
    for (const e of [err, dropped] as Error[]) {
      expect(JSON.stringify(e) + e.message + e.stack + JSON.stringify((e as UnauthorizedError).details)).not.toContain(KEY);
    }
    expect(lines.join("")).not.toContain(KEY);
    expect(lines.some((l) => l.includes('"endpoint":"/pods/{podId}"') && l.includes('"status":401'))).toBe(true);
  });
});
