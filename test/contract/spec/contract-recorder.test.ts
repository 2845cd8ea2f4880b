import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ContractRecorder, recordingFetch, UNMATCHED } from "./contract-recorder";
import { loadSpec } from "./openapi-document";
import { specAvailable, SPEC_SKIP_REASON } from "./openapi-validator";
import { collectExamples, exampleOf } from "./spec-examples";

/**
 * The recorder over a real local HTTP server answering spec-shaped and non-spec-shaped bodies:
 * it counts and reports, and the caller sees exactly what the server sent.
 */

const describeSpec = specAvailable ? describe : describe.skip;
const RATE = '"minute";r=59;t=60, "hour";r=2999;t=3600, "day";r=49999;t=86400';
const GOOD_EVENTS =
  'id: 2026-06-01T12:00:00Z/1\ndata: {"ts":"2026-06-01T12:00:00Z","source":"container","line":"one"}\n\n';
const BAD_EVENT = "id: 2026-06-01T12:00:01Z/2\ndata: {not json\n\n";

function route(pod: unknown, req: IncomingMessage, res: ServerResponse): void {
  const json = (status: number, body: unknown, type = "application/json"): void => {
    res.writeHead(status, { "content-type": type, RateLimit: RATE });
    res.end(JSON.stringify(body));
  };
  const key = `${req.method ?? ""} ${(req.url ?? "").split("?")[0] ?? ""}`;
  if (key === "GET /api/v2/pods/pod_ok") json(200, pod);
  else if (key === "GET /api/v2/pods/pod_bad") json(200, { ...(pod as object), cost: "cheap" });
  else if (key === "POST /api/v2/pods") json(201, pod);
  else if (key === "DELETE /api/v2/pods/pod_ok") res.writeHead(204).end();
  else if (key === "GET /api/v2/pods/pod_ok/logs") {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(GOOD_EVENTS + BAD_EVENT); // and stays open until the client goes away
  } else json(404, { title: "Not Found", status: 404 }, "application/problem+json");
}

describeSpec(specAvailable ? "ContractRecorder" : SPEC_SKIP_REASON, () => {
  let server: Server;
  let base: string;
  const auth = { authorization: "Bearer k" };

  beforeAll(async () => {
    const pod = exampleOf(collectExamples(loadSpec()), "getPod", "200").value;
    server = createServer((req, res) => req.resume().on("end", () => route(pod, req, res)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("hands the caller the same status, headers, url and body as the inner fetch", async () => {
    const recorded = new ContractRecorder().wrap(fetch);
    for (const path of ["/v2/pods/pod_ok", "/v2/pods/pod_bad", "/v2/nowhere"]) {
      const direct = await fetch(`${base}${path}`, { headers: auth });
      const through = await recorded(`${base}${path}`, { headers: auth });
      expect({
        status: through.status,
        statusText: through.statusText,
        url: through.url,
        body: await through.text(),
      }).toEqual({
        status: direct.status,
        statusText: direct.statusText,
        url: direct.url,
        body: await direct.text(),
      });
      expect(through.headers.get("content-type")).toBe(direct.headers.get("content-type"));
      expect(through.headers.get("ratelimit")).toBe(RATE);
    }
  });

  it("counts one message per request and per response, by operation, and lists the violations", async () => {
    const { fetch: recorded, recorder } = recordingFetch(fetch);
    await recorded(`${base}/v2/pods/pod_ok`, { headers: auth });
    await recorded(`${base}/v2/pods/pod_bad`, { headers: auth });
    const body = JSON.stringify({ name: "x", image: "img", gpu: { id: "NVIDIA RTX A4000", gpuCount: 1 } });
    await recorded(`${base}/v2/pods`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body,
    });
    await recorded(new Request(`${base}/v2/pods/pod_ok`, { method: "DELETE", headers: auth }));

    expect(recorder.validated).toBe(8);
    expect(recorder.byOperation).toEqual({
      getPod: { requests: 2, responses: 2, violations: 1 },
      createPod: { requests: 1, responses: 1, violations: 1 },
      deletePod: { requests: 1, responses: 1, violations: 0 },
    });
    expect(recorder.violations).toEqual([
      {
        kind: "response",
        method: "GET",
        url: `${base}/v2/pods/pod_bad`,
        status: 200,
        operationId: "getPod",
        violation: "getPod 200 response body /cost must be number",
      },
      {
        kind: "request",
        method: "POST",
        url: `${base}/v2/pods`,
        status: undefined,
        operationId: "createPod",
        violation: "request body /gpu must NOT have unevaluated properties: 'gpuCount'",
      },
    ]);
    expect(recorder.summary()).toContain(
      `response GET ${base}/v2/pods/pod_bad -> 200: getPod 200 response body /cost must be number`,
    );
  });

  it("reports requests outside the spec and their error bodies", async () => {
    const { fetch: recorded, recorder } = recordingFetch(fetch);
    const res = await recorded(`${base}/v2/nowhere`, { headers: auth });
    expect(res.status).toBe(404);
    expect(recorder.validated).toBe(2);
    expect(recorder.byOperation).toEqual({ [UNMATCHED]: { requests: 1, responses: 1, violations: 2 } });
    expect(recorder.violations.map((v) => v.violation)).toEqual([
      "GET /api/v2/nowhere: no path in the spec matches",
      "GET /api/v2/nowhere: no path in the spec matches",
    ]);
  });

  it("validates what an event stream delivered once the caller closes it, passing the bytes through", async () => {
    const { fetch: recorded, recorder } = recordingFetch(fetch);
    const res = await recorded(`${base}/v2/pods/pod_ok/logs?tail=10`, { headers: auth });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(recorder.validated).toBe(1); // the request; the response waits for the stream

    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.endsWith(BAD_EVENT)) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`stream ended early after: ${seen}`);
      seen += decoder.decode(chunk.value, { stream: true });
    }
    await reader.cancel();
    await recorder.idle();

    expect(seen).toBe(GOOD_EVENTS + BAD_EVENT);
    expect(recorder.validated).toBe(2);
    expect(recorder.byOperation.getPodLogs).toEqual({ requests: 1, responses: 1, violations: 1 });
    expect(recorder.violations).toEqual([
      expect.objectContaining({
        kind: "response",
        status: 200,
        violation: "getPodLogs 200 response SSE event 2: data is not JSON: {not json",
      }),
    ]);
  });

  it("notes a streamed request body it cannot read instead of consuming it", async () => {
    const { fetch: recorded, recorder } = recordingFetch(async () => new Response(null, { status: 204 }));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("{}"));
        c.close();
      },
    });
    const res = await recorded(`${base}/v2/pods`, { method: "POST", body, headers: auth });
    expect(res.status).toBe(204);
    expect(recorder.validated).toBe(0);
    expect(recorder.notes).toEqual([`request to ${base}/v2/pods not validated: the request body is a stream`]);
  });
});
