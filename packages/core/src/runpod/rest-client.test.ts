import { Writable } from "node:stream";
import winston from "winston";
import { createLogger } from "../logging/logger";
import {
  BadRequestError,
  BadResponseError,
  ContractViolationError,
  NoCapacityError,
  RunPodUnavailableError,
  UnauthorizedError,
} from "./errors";
import type { RunPodCallInfo } from "./http";
import { RunPodRestClient, type RunPodRestClientOptions } from "./rest-client";

const KEY = "rpa_UNITTESTKEY_0123456789abcdef";
const pod = {
  id: "p1",
  name: "trainpod-d1",
  status: "PROVISIONING",
  cost: 0.74,
  createdAt: "2026-12-01T10:00:00Z",
  startedAt: null,
  gpu: { id: "NVIDIA A40", count: 1 },
};
const input = { name: "trainpod-d1", image: "img", gpu: { id: "NVIDIA A40", count: 1 }, args: "" };
const problem = (status: number, detail: string, extra: Record<string, unknown> = {}) => ({
  title: "x",
  status,
  detail,
  ...extra,
});

type Step = Response | Error;
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
const drop = (): Error =>
  new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) });

function harness(steps: Step[], options: Partial<RunPodRestClientOptions> = {}) {
  const requests: Array<{ url: string; method: string; headers: Record<string, string>; body: unknown }> = [];
  const slept: number[] = [];
  const calls: RunPodCallInfo[] = [];
  const fakeFetch: typeof fetch = async (url, init) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    requests.push({
      url: String(url),
      method: init?.method ?? "GET",
      headers,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const step = steps.shift();
    if (step === undefined) throw new Error("no more scripted answers");
    if (step instanceof Error) throw step;
    return step;
  };
  const client = new RunPodRestClient({
    baseUrl: "https://api.example/v2/",
    apiKey: KEY,
    fetch: fakeFetch,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    onCall: (info) => calls.push(info),
    ...options,
  });
  return { client, requests, slept, calls };
}

describe("RunPodRestClient (fake fetch)", () => {
  it("creates a pod: POST /v2/pods with the bearer key and the nested body, 201 parsed", async () => {
    const { client, requests, calls } = harness([json(201, pod)]);
    await expect(client.createPod(input)).resolves.toMatchObject({ id: "p1", cost: 0.74, status: "PROVISIONING" });
    expect(requests[0]).toMatchObject({ url: "https://api.example/v2/pods", method: "POST", body: input });
    expect(requests[0]?.headers.Authorization).toBe(`Bearer ${KEY}`);
    expect(calls).toEqual([
      { endpoint: "/pods", method: "POST", status: 201, durationMs: expect.any(Number), attempt: 1 },
    ]);
  });

  it("checks the create input before sending anything", async () => {
    const { client, requests } = harness([]);
    await expect(client.createPod({ ...input, gpu: { id: "NVIDIA A40", count: 1.5 } })).rejects.toBeInstanceOf(
      BadRequestError,
    );
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
    const plain = harness([json(500, problem(500, "boom"))]);
    await expect(plain.client.createPod(input)).rejects.toBeInstanceOf(RunPodUnavailableError);
    const optedIn = harness([drop(), json(500, problem(500, "boom")), json(201, pod)], {
      retryCreateOnNetworkError: true,
    });
    await expect(optedIn.client.createPod(input)).resolves.toMatchObject({ id: "p1" });
    expect(optedIn.slept).toEqual([100, 200]);
  });

  it("repeats a create refused with 429, waiting Retry-After", async () => {
    const { client, slept, calls } = harness([
      json(429, problem(429, "rate limit exceeded"), { "retry-after": "2" }),
      json(201, pod),
    ]);
    await expect(client.createPod(input)).resolves.toMatchObject({ id: "p1" });
    expect(slept).toEqual([2_000]);
    expect(calls.map((c) => [c.status, c.attempt])).toEqual([
      [429, 1],
      [201, 2],
    ]);
  });

  it("reports a 400 on create (this candidate cannot be placed) at once, without retrying", async () => {
    const { client, requests } = harness([json(400, problem(400, "no capacity for NVIDIA A40 in any data center"))]);
    await expect(client.createPod(input)).rejects.toBeInstanceOf(NoCapacityError);
    expect(requests).toHaveLength(1);
  });

  it("never retries a 422 and keeps RunPod's violations", async () => {
    const { client, requests } = harness([
      json(422, problem(422, "invalid body", { errors: ["$.gpu.count: must be >= 1"] })),
    ]);
    const err = await client.createPod(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractViolationError);
    expect((err as ContractViolationError).violations).toEqual(["$.gpu.count: must be >= 1"]);
    expect(requests).toHaveLength(1);
  });

  it("retries reads on 5xx and drops with backoff, then gives up after maxRetries", async () => {
    const { client, slept } = harness([json(502, "bad gateway"), drop(), json(200, pod)]);
    await expect(client.getPod("p1")).resolves.toMatchObject({ id: "p1" });
    expect(slept).toEqual([100, 200]);
    const failing = harness(
      Array.from({ length: 3 }, () => json(503, problem(503, "down"))),
      { maxRetries: 2 },
    );
    await expect(failing.client.getPod("p1")).rejects.toBeInstanceOf(RunPodUnavailableError);
    expect(failing.requests).toHaveLength(3);
  });

  it("getPod answers null on 404 and encodes the id", async () => {
    const { client, requests } = harness([json(404, problem(404, "pod not found"))]);
    await expect(client.getPod("a/b")).resolves.toBeNull();
    expect(requests[0]?.url).toBe("https://api.example/v2/pods/a%2Fb");
  });

  it("turns an unexpected body into BadResponseError naming the field, not the body", async () => {
    const { client } = harness([json(200, { ...pod, id: undefined, env: { RUN_TOKEN: "tp_run_SECRETVALUE123" } })]);
    const err = await client.getPod("p1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadResponseError);
    expect((err as BadResponseError).message).toMatch(/GET \/pods\/\{id\} answered 200 with an unexpected body: id:/);
    expect(JSON.stringify(err) + String(err)).not.toContain("SECRETVALUE");
    const bare = harness([json(200, [pod])]);
    await expect(bare.client.listPods()).rejects.toThrow(
      "with an unexpected body: (root): Invalid input: expected object, received array",
    );
  });

  it("lists the wrapped {pods} once and applies name and prefix client-side", async () => {
    const pods = [pod, { ...pod, id: "p2", name: "other-1" }, { ...pod, id: "p3", name: "trainpod-d3" }];
    const { client, requests } = harness([json(200, { pods }), json(200, { pods })]);
    expect((await client.listPods({ namePrefix: "trainpod-" })).map((p) => p.id)).toEqual(["p1", "p3"]);
    expect((await client.listPods({ name: "trainpod-d3" })).map((p) => p.id)).toEqual(["p3"]);
    expect(requests.map((r) => r.url)).toEqual(["https://api.example/v2/pods", "https://api.example/v2/pods"]);
  });

  it("terminates idempotently: 204, then 404 counts as already gone", async () => {
    const { client, requests } = harness([json(204, null), json(404, problem(404, "pod not found"))]);
    await expect(client.terminatePod("p1")).resolves.toEqual({ alreadyGone: false });
    await expect(client.terminatePod("p1")).resolves.toEqual({ alreadyGone: true });
    expect(requests.map((r) => r.method)).toEqual(["DELETE", "DELETE"]);
  });

  it("stops a pod through the action endpoint", async () => {
    const { client, requests } = harness([json(200, { ...pod, status: "EXITED" })]);
    await client.stopPod("p1");
    expect(requests[0]).toMatchObject({
      url: "https://api.example/v2/pods/p1/action",
      method: "POST",
      body: { action: "stop" },
    });
  });

  it("reads the catalog with availability for pods, and RunPod's bill for one pod", async () => {
    const gpus = [{ id: "NVIDIA A40", name: "A40", price: { secure: 0.4, community: 0.35 }, availability: "HIGH" }];
    const records = [
      {
        podId: "p1",
        startTime: "2026-12-01T10:00:00Z",
        endTime: "2026-12-01T11:00:00Z",
        totalAmount: 0.01,
        gpuAmount: 0.01,
        cpuAmount: 0,
        diskAmount: 0,
      },
    ];
    const { client, requests } = harness([json(200, { gpus }), json(200, { records, metadata: {} })]);
    await expect(client.listGpuTypes({ cloud: "SECURE", count: 1 })).resolves.toMatchObject([
      { id: "NVIDIA A40", availability: "HIGH" },
    ]);
    await expect(
      client.podBilling({
        podId: "p1",
        startTime: new Date("2026-12-01T10:00:00Z"),
        endTime: new Date("2026-12-01T11:00:00Z"),
      }),
    ).resolves.toHaveLength(1);
    expect(requests[0]?.url).toBe(
      "https://api.example/v2/catalog/gpus?include=AVAILABILITY&product=POD&cloud=SECURE&count=1",
    );
    expect(requests[1]?.url).toBe(
      "https://api.example/v2/billing/pods?podId=p1&bucketSize=hour&startTime=2026-12-01T10%3A00%3A00.000Z&endTime=2026-12-01T11%3A00%3A00.000Z",
    );
  });

  it("a wait for the account's budget longer than the attempt's timeout is not a timeout; a budget that cannot answer is retryable", async () => {
    const slowBudget = {
      acquire: () => new Promise<void>((resolve) => setTimeout(resolve, 60)),
      observe: async () => undefined,
    };
    const patient = new RunPodRestClient({
      baseUrl: "https://api.example/v2",
      apiKey: KEY,
      budget: slowBudget,
      timeoutMs: 20,
      fetch: async () => json(200, { pods: [pod] }),
    });
    await expect(patient.listPods()).resolves.toHaveLength(1);
    const broken = new RunPodRestClient({
      baseUrl: "https://api.example/v2",
      apiKey: KEY,
      maxRetries: 0,
      budget: { acquire: () => Promise.reject(new Error("Connection is closed.")), observe: async () => undefined },
      fetch: async () => json(200, { pods: [] }),
    });
    const err = await broken.listPods().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunPodUnavailableError);
    expect((err as RunPodUnavailableError).message).toContain("rate budget could not be read (Connection is closed.)");
  });

  it("keeps the key out of errors and logs", async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
    const logger = createLogger({
      service: "t",
      level: "debug",
      transports: [new winston.transports.Stream({ stream })],
    });
    const { client } = harness([json(401, problem(401, `bad key ${KEY}`)), drop(), drop()], { logger, maxRetries: 1 });
    const err = await client.getPod("p1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    const dropped = await client.listPods().catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(RunPodUnavailableError);
    for (const e of [err, dropped] as Error[]) {
      expect(JSON.stringify(e) + e.message + e.stack + JSON.stringify((e as UnauthorizedError).details)).not.toContain(
        KEY,
      );
    }
    expect(lines.join("")).not.toContain(KEY);
    expect(lines.some((l) => l.includes('"endpoint":"/pods/{id}"') && l.includes('"status":401'))).toBe(true);
  });
});
