import { specAvailable, SPEC_SKIP_REASON, validateResponse } from "./openapi-validator";
import { RATE_LIMIT_PATTERN, RATE_LIMIT_POLICY_PATTERN } from "./rate-limit-headers";
import { parseSse } from "./sse-events";

/** text/event-stream bodies of the log operations, and the declared response headers. */

const describeSpec = specAvailable ? describe : describe.skip;
const SSE = { "content-type": "text/event-stream" };
const event = (id: string, data: string): string => `id: ${id}\ndata: ${data}\n\n`;
const line = (ts: string, text: string): string => JSON.stringify({ ts, source: "container", line: text });
const logs = (body: string, partialStream = false): string[] =>
  validateResponse({ method: "GET", url: "/v2/pods/p1/logs", status: 200, headers: SSE, body }, { partialStream });

describe("parseSse", () => {
  it("splits events, joins multi-line data and skips comment keep-alives", () => {
    const events = parseSse(": ping\n\nid: 1\ndata: a\ndata: b\n\r\nid: 2\nevent: log\ndata: c\n\n", false);
    expect(events).toEqual([
      { index: 1, id: "1", event: undefined, data: "a\nb" },
      { index: 2, id: "2", event: "log", data: "c" },
    ]);
  });

  it("drops an unterminated trailing block only when the stream was cut off", () => {
    expect(parseSse('id: 1\ndata: x\n\nid: 2\ndata: {"tr', true)).toHaveLength(1);
    expect(parseSse("id: 1\ndata: x\n\nid: 2\ndata: y\n", false)).toHaveLength(2);
  });
});

describeSpec(specAvailable ? "OpenAPI v2 event streams and headers" : SPEC_SKIP_REASON, () => {
  describe("log streams", () => {
    it("accepts events with an id and a source/line/ts payload", () => {
      expect(logs(event("2026-06-01T12:00:00Z/1", line("2026-06-01T12:00:00Z", "hello")) + ": ping\n\n")).toEqual([]);
    });

    it("rejects a malformed data line", () => {
      expect(logs(event("t1", line("2026-06-01T12:00:00Z", "ok")) + event("t2", "{not json"))).toEqual([
        "getPodLogs 200 response SSE event 2: data is not JSON: {not json",
      ]);
    });

    it("rejects an event without an id, and payloads missing or mistyping fields", () => {
      expect(logs(`data: ${line("2026-06-01T12:00:00Z", "x")}\n\n`)).toEqual([
        "getPodLogs 200 response SSE event 1: missing id: line",
      ]);
      expect(logs(event("t1", JSON.stringify({ source: "container", line: "x" })))).toEqual([
        "getPodLogs 200 response SSE event 1 data (root) must have required property 'ts'",
      ]);
      expect(logs(event("t1", JSON.stringify({ source: "stderr", line: "x", ts: "2026-06-01T12:00:00Z" })))).toEqual([
        'getPodLogs 200 response SSE event 1 data /source must be equal to one of the allowed values: ["container","system"]',
      ]);
    });

    it("ignores a half-received last event when the caller closed the stream", () => {
      const cut = event("t1", line("2026-06-01T12:00:00Z", "x")) + 'id: t2\ndata: {"ts":"2026';
      expect(logs(cut, true)).toEqual([]);
      expect(logs(cut, false)).toEqual([
        expect.stringMatching(/^getPodLogs 200 response SSE event 2: data is not JSON/),
      ]);
    });

    it("rejects a JSON body where the stream is declared", () => {
      expect(
        validateResponse({
          method: "GET",
          url: "/v2/pods/p1/logs",
          status: 200,
          headers: { "content-type": "application/json" },
          body: "[]",
        }),
      ).toEqual([
        "getPodLogs 200 response Content-Type application/json is not declared; the spec declares text/event-stream",
      ]);
    });
  });

  describe("RateLimit headers", () => {
    const rate = '"minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012';
    const policy = '"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400';
    const pods = (headers: Record<string, string>): string[] =>
      validateResponse({
        method: "GET",
        url: "/v2/pods",
        status: 200,
        headers: { "content-type": "application/json", ...headers },
        body: '{"pods":[]}',
      });

    it("the patterns match the spec's examples", () => {
      expect(RATE_LIMIT_PATTERN.test(rate)).toBe(true);
      expect(RATE_LIMIT_POLICY_PATTERN.test(policy)).toBe(true);
      expect(RATE_LIMIT_PATTERN.test(policy)).toBe(false);
    });

    it("accepts well-formed headers and rejects malformed ones", () => {
      expect(pods({ RateLimit: rate, "RateLimit-Policy": policy })).toEqual([]);
      expect(pods({ RateLimit: "minute;r=0;t=12" })).toEqual([
        "listPods 200 response header RateLimit is not a structured-field list shaped like the spec's examples: minute;r=0;t=12",
      ]);
      expect(pods({ "RateLimit-Policy": '"minute";q=60' })).toEqual([
        'listPods 200 response header RateLimit-Policy is not a structured-field list shaped like the spec\'s examples: "minute";q=60',
      ]);
    });

    it("coerces Retry-After to its integer schema on 429", () => {
      const limited = (retryAfter: string): string[] =>
        validateResponse({
          method: "GET",
          url: "/v2/pods",
          status: 429,
          headers: { "content-type": "application/problem+json", "retry-after": retryAfter },
          body: JSON.stringify({ title: "Too Many Requests", status: 429, detail: "rate limit exceeded" }),
        });
      expect(limited("12")).toEqual([]);
      expect(limited("soon")).toEqual(["listPods 429 response header Retry-After must be integer"]);
    });
  });
});
