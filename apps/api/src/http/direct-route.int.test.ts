/**
 * POST /v1/deployments is served ahead of the router (serveDirect), with its own JSON reader (jsonBody) and answer
 * (sendJson): each request here goes to the direct path (`/v1/deployments`) and to the router's (`/v1/deployments/`,
 * the same route with a trailing slash, which the direct path leaves to Express), and both answers must agree.
 */
import { gzipSync } from "node:zlib";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeUser } from "../../../../test/factories";

let h: ApiHarness;
let limited: ApiHarness;
let key: string;
let datasetId: string;

beforeAll(async () => {
  h = await startTestApi();
  const u = await makeUser(h.db.prisma, { email: "direct@example.com" });
  key = u.key;
  datasetId = (await makeDataset(h.db.prisma, u.user.id)).id;
  limited = await startTestApi({ env: { RATE_LIMIT_PER_MINUTE: "3" } });
});
afterAll(async () => {
  await h?.close();
  await limited?.close();
});

const valid = () =>
  JSON.stringify({
    datasetId,
    baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters: { steps: 1 },
  });

/** a body as a function: the table is built before beforeAll has made the dataset */
type Sent = { body: string | Buffer | (() => string | Buffer); headers?: Record<string, string>; auth?: boolean };

async function post(base: string, path: string, sent: Sent) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(sent.auth === false ? {} : { authorization: `Bearer ${key}` }),
      ...sent.headers,
    },
    body: typeof sent.body === "function" ? sent.body() : sent.body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** The headers an answer carries, by name, leaving out those whose value is per answer. */
const headerNames = (headers: Headers) =>
  [...headers.keys()].filter((n) => !["date", "x-request-id", "content-length", "location"].includes(n)).sort();

describe("the direct path answers as the router does", () => {
  it("a submission: 202, the same headers, Location, the JSON content type and length", async () => {
    const direct = await post(h.url, "/v1/deployments", { body: valid() });
    const routed = await post(h.url, "/v1/deployments/", { body: valid() });
    expect([direct.status, routed.status]).toEqual([202, 202]);
    expect(headerNames(direct.headers)).toEqual(headerNames(routed.headers));
    // what res.json gives every other answer (a read of the same deployment)
    const read = await fetch(`${h.url}/v1/deployments/${direct.json.id as string}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(direct.headers.get("content-type")).toBe(read.headers.get("content-type"));
    expect(direct.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(Number(direct.headers.get("content-length"))).toBe(Buffer.byteLength(direct.text));
    expect(direct.headers.get("location")).toBe(`/v1/deployments/${direct.json.id as string}`);
    expect(direct.headers.get("x-content-type-options")).toBe("nosniff");
    expect(direct.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(direct.json).sort()).toEqual(Object.keys(routed.json).sort());
    expect(direct.json).toMatchObject({ status: "QUEUED", datasetId });
  });

  it.each<[string, Sent, number, string]>([
    ["no API key", { body: valid, auth: false }, 401, "UNAUTHORIZED"],
    ["a body that is not JSON", { body: "{nope" }, 400, "BAD_REQUEST"],
    ["JSON that is not an object", { body: '"a string"' }, 400, "BAD_REQUEST"],
    ["an empty body", { body: "" }, 400, "VALIDATION_FAILED"],
    ["a body over 256 KiB", { body: `{"a":"${"x".repeat(300 * 1024)}"}` }, 413, "PAYLOAD_TOO_LARGE"],
    ["another charset", { body: valid, headers: { "content-type": "application/json; charset=latin1" } }, 415, ""],
    ["another content type", { body: valid, headers: { "content-type": "text/plain" } }, 400, "VALIDATION_FAILED"],
  ])("%s: the same refusal", async (_name, sent, status, code) => {
    const direct = await post(h.url, "/v1/deployments", sent);
    const routed = await post(h.url, "/v1/deployments/", sent);
    expect([direct.status, routed.status]).toEqual([status, status]);
    expect(direct.json).toEqual(routed.json);
    if (code !== "") expect(direct.json).toMatchObject({ error: { code } });
    expect(headerNames(direct.headers)).toEqual(headerNames(routed.headers));
    expect(direct.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it.each<[string, Sent]>([
    ["a gzip body (body-parser's path)", { body: () => gzipSync(valid()), headers: { "content-encoding": "gzip" } }],
    ["a byte order mark first", { body: () => `\uFEFF${valid()}` }],
    ["charset=utf-8 named", { body: valid, headers: { "content-type": "application/json; charset=utf-8" } }],
  ])("%s: accepted on both", async (_name, sent) => {
    const direct = await post(h.url, "/v1/deployments", sent);
    const routed = await post(h.url, "/v1/deployments/", sent);
    expect([direct.status, routed.status]).toEqual([202, 202]);
  });

  it("the per-IP rate limit counts the direct path: the fourth of three a minute is 429 RATE_LIMITED", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(limited.url, "/v1/deployments", { body: "{}" })).status);
    expect(statuses.slice(0, 3)).not.toContain(429);
    const last = await post(limited.url, "/v1/deployments", { body: "{}" });
    expect(statuses[3]).toBe(429);
    expect(last.json).toMatchObject({ error: { code: "RATE_LIMITED" } });
  });
});
