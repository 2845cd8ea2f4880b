/**
 * The API's HTTP server (applyServerLimits): idle, keep-alive, header and request timeouts close sockets that
 * send nothing or too slowly; what Node's HTTP parser refuses (too-large headers, a garbage request line, a
 * timeout) is answered in the API's JSON error shape with the security headers. Security review, findings 5 and 6.
 * Raw sockets throughout: an HTTP client would hide what the server does.
 */
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { applyServerLimits } from "./server-limits";

const IDLE_MS = 400;
const KEEP_ALIVE_MS = 300;
const HEADERS_MS = 1_000;
const REQUEST_MS = 1_500;
/** what a close may take past its timeout: the server's check interval and a loaded test machine */
const SLACK_MS = 1_000;
/** Node closes a kept-alive socket this long after the keep-alive timeout it advertises */
const NODE_KEEP_ALIVE_MARGIN_MS = 1_000;

let h: ApiHarness;
/** the same app on a server set up as main.ts does: limits applied before listen */
let mainLike: { port: number; close(): Promise<void> };

beforeAll(async () => {
  h = await startTestApi({
    env: {
      API_IDLE_TIMEOUT_MS: String(IDLE_MS),
      API_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
      API_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      API_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    },
  });
  const server = http.createServer(h.app);
  applyServerLimits(server, h.config.env);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  mainLike = {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
});
afterAll(async () => {
  await mainLike?.close();
  await h?.close();
});

const harnessPort = () => Number(new URL(h.url).port);

interface Exchange {
  /** everything the server sent */
  received: string;
  /** ms from connect until the server closed the socket; null if it was still open after `waitMs` */
  closedAfterMs: number | null;
}

/** Connects, lets `drive` write, and records what comes back until the server closes the socket or `waitMs` pass. */
function exchange(
  port: number,
  waitMs: number,
  drive: (socket: net.Socket) => void = () => undefined,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const started = Date.now();
    let received = "";
    const give_up = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedAfterMs: null });
    }, waitMs);
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", () => undefined); // a reset by the server is a close too
    socket.on("close", () => {
      clearTimeout(give_up);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
    socket.once("connect", () => drive(socket));
    socket.once("error", (err) => (received === "" && socket.connecting ? reject(err) : undefined));
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function drip(text: string, everyMs: number): (socket: net.Socket) => void {
  return (socket) => {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || i >= text.length) return clearInterval(timer);
      socket.write(text[i] ?? "");
      i += 1;
    }, everyMs);
    socket.once("close", () => clearInterval(timer));
  };
}

/** A request through Node's own HTTP client: the status it read, and every error it met until the socket closed. */
function nodeClient(
  port: number,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number | null; errors: string[] }> {
  return new Promise((resolve) => {
    const errors: string[] = [];
    let status: number | null = null;
    const req = http.request({ host: "127.0.0.1", port, method, path: "/healthz", headers, agent: false }, (res) => {
      status = res.statusCode ?? null;
      res.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
      res.resume();
    });
    req.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    req.on("close", () => setTimeout(() => resolve({ status, errors }), 50));
    req.end();
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function parseAnswer(raw: string): RawAnswer {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = raw.slice(0, end).split("\r\n");
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  const text = raw.slice(end + 4);
  expect(Buffer.byteLength(text, "latin1")).toBe(Number(headers["content-length"]));
  return { status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(text) };
}

/** The API's error shape and the headers helmet puts on every answer of the app. */
function expectJsonError(answer: RawAnswer, status: number, code: string): void {
  expect([answer.status, answer.body]).toEqual([status, { error: { code, message: expect.any(String) } }]);
  expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(answer.headers["x-content-type-options"]).toBe("nosniff");
  expect(answer.headers["content-security-policy"]).toContain("default-src 'self'");
  expect(answer.headers["x-frame-options"]).toBe("SAMEORIGIN");
  expect(answer.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
  expect(answer.headers["connection"]).toBe("close");
  expect(answer.headers["x-powered-by"]).toBeUndefined();
}

describe("timeouts (finding 5)", () => {
  it("a socket that connects and sends nothing is closed within API_IDLE_TIMEOUT_MS", async () => {
    const silent = await exchange(harnessPort(), IDLE_MS + SLACK_MS);
    expect(silent.closedAfterMs).not.toBeNull();
    expect(silent.closedAfterMs).toBeLessThanOrEqual(IDLE_MS + SLACK_MS);
  });

  it("half a request line, then silence: closed within API_IDLE_TIMEOUT_MS", async () => {
    const half = await exchange(harnessPort(), IDLE_MS + SLACK_MS, (s) => s.write("GET /v1/deploym"));
    expect(half.closedAfterMs).not.toBeNull();
    expect(half.closedAfterMs).toBeLessThanOrEqual(IDLE_MS + SLACK_MS);
  });

  it("a kept-alive connection with no next request is closed within API_KEEP_ALIVE_TIMEOUT_MS (+ Node's 1 s) of its answer", async () => {
    const limit = KEEP_ALIVE_MS + NODE_KEEP_ALIVE_MARGIN_MS + SLACK_MS; // Node's default, 5 s + 1 s, is past it
    const kept = await exchange(harnessPort(), limit, (s) =>
      s.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
    );
    expect(kept.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(kept.closedAfterMs).not.toBeNull();
    expect(kept.closedAfterMs).toBeLessThanOrEqual(limit);
  });

  it("headers trickling in (a byte every 100 ms, never idle): 408 in the JSON shape within API_HEADERS_TIMEOUT_MS", async () => {
    const slow = await exchange(
      mainLike.port,
      HEADERS_MS + SLACK_MS,
      drip(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(500)}`, 100),
    );
    expect(slow.closedAfterMs).not.toBeNull();
    expect(slow.closedAfterMs).toBeLessThanOrEqual(HEADERS_MS + SLACK_MS);
    expectJsonError(parseAnswer(slow.received), 408, "REQUEST_TIMEOUT");
  });

  it("a body trickling in (a byte every 100 ms, never idle): 408 in the JSON shape within API_REQUEST_TIMEOUT_MS", async () => {
    const head =
      "POST /v1/nothing-here HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    const slow = await exchange(mainLike.port, REQUEST_MS + SLACK_MS, (s) => {
      s.write(head);
      drip(`{"a":"${"b".repeat(990)}"}`, 100)(s);
    });
    expect(slow.closedAfterMs).not.toBeNull();
    expect(slow.closedAfterMs).toBeLessThanOrEqual(REQUEST_MS + SLACK_MS);
    expectJsonError(parseAnswer(slow.received), 408, "REQUEST_TIMEOUT");
  });

  it("a request that keeps its pace is answered as usual", async () => {
    const ok = await fetch(`http://127.0.0.1:${mainLike.port}/healthz`);
    expect(ok.status).toBe(200);
  });
});

describe("what Node's HTTP parser refuses is a JSON error with the security headers (finding 6)", () => {
  for (const [name, port] of [
    ["the harness's server", harnessPort],
    ["a server set up like main.ts", () => mainLike.port],
  ] as const) {
    it(`${name}: headers over Node's limit → 431 HEADERS_TOO_LARGE, then the socket is closed`, async () => {
      const big = await exchange(port(), 5_000, (s) =>
        s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`),
      );
      expect(big.closedAfterMs).not.toBeNull();
      expectJsonError(parseAnswer(big.received), 431, "HEADERS_TOO_LARGE");
    });

    it(`${name}: a HEAD with headers over Node's limit → 431 with no body, which Node's own client reads (issue 34)`, async () => {
      const big = { "x-big": "a".repeat(20 * 1024) };
      expect(await nodeClient(port(), "HEAD", big)).toEqual({ status: 431, errors: [] });
      const raw = await exchange(port(), 5_000, (s) =>
        s.write(`HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${big["x-big"]}\r\n\r\n`),
      );
      expect(raw.closedAfterMs).not.toBeNull();
      const [head = "", body] = raw.received.split("\r\n\r\n");
      // the headers a GET would get (its JSON's type and length), the body left out
      expect([head.split("\r\n")[0], body]).toEqual(["HTTP/1.1 431 Request Header Fields Too Large", ""]);
      expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
      // a GET still gets the JSON, through Node's client too
      expect(await nodeClient(port(), "GET", big)).toEqual({ status: 431, errors: [] });
    });

    it(`${name}: headers over the limit that arrive in several packets (the method no longer in sight) → 431, no body`, async () => {
      for (const method of ["HEAD", "GET"]) {
        const split = await exchange(port(), 5_000, (s) => {
          s.write(`${method} /healthz HTTP/1.1\r\nHost: x\r\n`);
          setTimeout(() => s.write(`X-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`), 50);
        });
        expect(split.closedAfterMs).not.toBeNull();
        const [head = "", body] = split.received.split("\r\n\r\n");
        expect([method, head.split("\r\n")[0], body]).toEqual([
          method,
          "HTTP/1.1 431 Request Header Fields Too Large",
          "",
        ]);
        expect(head).toMatch(/\r\nContent-Length: 0\r\n/);
      }
    });

    it(`${name}: a garbage request line → 400 BAD_REQUEST, then the socket is closed`, async () => {
      for (const line of [
        "NOT-A-METHOD / HTTP/1.1\r\n\r\n",
        "\u0001\u0002 garbage\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
      ]) {
        const bad = await exchange(port(), 5_000, (s) => s.write(line));
        expect([JSON.stringify(line), bad.closedAfterMs === null]).toEqual([JSON.stringify(line), false]);
        expectJsonError(parseAnswer(bad.received), 400, "BAD_REQUEST");
      }
    });
  }
});
