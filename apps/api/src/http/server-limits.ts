import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Env } from "@trainpod/core";
import { SECURITY_HEADERS } from "./security";

export type ServerLimits = Pick<
  Env,
  "API_REQUEST_TIMEOUT_MS" | "API_HEADERS_TIMEOUT_MS" | "API_KEEP_ALIVE_TIMEOUT_MS" | "API_IDLE_TIMEOUT_MS"
>;

/**
 * The API server's own limits, for every http.Server that serves the app (main.ts, the test harnesses):
 * - API_HEADERS_TIMEOUT_MS: a request's headers must arrive within it (slow headers: 408);
 * - API_REQUEST_TIMEOUT_MS: the whole request, body included, must arrive within it (408; 0 = no limit).
 *   It ends once the request is received: a long answer (an SSE stream, a download) is not cut by it;
 * - API_KEEP_ALIVE_TIMEOUT_MS: a kept-alive connection waits this long for its next request (Node adds 1 s);
 * - API_IDLE_TIMEOUT_MS: a socket with no byte either way this long is closed (connected and silent, half a
 *   request line...). The event streams are exempt (keepStreamOpen): a quiet stream is not a dead client.
 * Node checks the header and request timeouts on an interval it reads when the server starts listening:
 * applied before listen (main.ts) that interval follows them; applied after (the harnesses), Node's 30 s stays.
 * What Node's HTTP parser refuses before the app sees a request is answered by answerClientError.
 */
export function applyServerLimits(server: Server, env: ServerLimits): void {
  const request = env.API_REQUEST_TIMEOUT_MS;
  server.requestTimeout = request;
  // Node refuses a header timeout above the request timeout
  server.headersTimeout = request > 0 ? Math.min(env.API_HEADERS_TIMEOUT_MS, request) : env.API_HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = env.API_KEEP_ALIVE_TIMEOUT_MS;
  server.timeout = env.API_IDLE_TIMEOUT_MS;
  const shortest = Math.min(server.headersTimeout, request > 0 ? request : Infinity);
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1_000, Math.floor(shortest / 4)),
  );
  server.on("clientError", answerClientError);
}

/** An answer that stays open with nothing to say for a while (server-sent events): no idle timeout on its socket. */
export function keepStreamOpen(req: IncomingMessage): void {
  req.socket.setTimeout(0);
}

/** Node's parser errors (and its timeouts) as the API's own errors: status, code, message. */
const CLIENT_ERRORS: Record<string, readonly [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, "HEADERS_TOO_LARGE", "the request's headers are too large"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "PAYLOAD_TOO_LARGE", "the request's chunk extensions are too large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "REQUEST_TIMEOUT", "the request did not arrive in time"],
};
const BAD_REQUEST = [400, "BAD_REQUEST", "the request is not valid HTTP"] as const;

/** The method of the refused request, when the bytes the parser refused begin with its request line; else null. */
function refusedMethod(err: NodeJS.ErrnoException): string | null {
  const raw = (err as { rawPacket?: unknown }).rawPacket;
  if (!Buffer.isBuffer(raw)) return null;
  return /^([A-Z]+) /.exec(raw.subarray(0, 32).toString("latin1"))?.[1] ?? null;
}

/**
 * The server's `clientError` listener: "errors are always JSON" holds before the app too. The answer is
 * {error: {code, message}} with the app's security headers and Connection: close, written straight to the
 * socket (there is no request or response object yet), which is then closed. Nothing is written when the
 * client is gone or an answer already started on this socket. An answer to HEAD has no body (its headers are
 * those a GET gets): a body would be read as the start of a next answer (issue 34). Headers too large that came
 * in several packets leave the request line out of what the parser refused: the method is not known, so the
 * 431 goes without a body (`Content-Length: 0`), right for any method.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ""] ?? BAD_REQUEST;
  const method = refusedMethod(err);
  const unknown = method === null && err.code === "HPE_HEADER_OVERFLOW";
  const body = unknown ? "" : JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    ...(unknown ? [] : ["Content-Type: application/json; charset=utf-8"]),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "Connection: close",
    ...SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${method === "HEAD" ? "" : body}`, () => socket.destroy());
}
