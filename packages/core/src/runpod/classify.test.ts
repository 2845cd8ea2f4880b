import { classifyFetchFailure, classifyHttpError, extractRunPodMessage, isNoCapacityMessage, scrubSecret } from "./classify";
import {
  BadRequestError,
  BadResponseError,
  NoCapacityError,
  NotFoundError,
  RateLimitedError,
  RunPodUnavailableError,
  UnauthorizedError,
} from "./errors";

const KEY = "rpa_SECRETKEY0123456789";
const call = (status: number, bodyText = "", retryAfter: string | null = null) =>
  classifyHttpError({ method: "POST", endpoint: "/pods", status, bodyText, retryAfter, attempt: 1, apiKey: KEY, nowMs: 0 });

describe("classifyHttpError", () => {
  it.each([
    [400, BadRequestError, false],
    [401, UnauthorizedError, false],
    [403, UnauthorizedError, false],
    [404, NotFoundError, false],
    [409, BadRequestError, false],
    [429, RateLimitedError, true],
    [500, RunPodUnavailableError, true],
    [502, RunPodUnavailableError, true],
    [503, RunPodUnavailableError, true],
    [302, BadResponseError, false],
  ])("status %p is %p (retryable %p)", (status, type, retryable) => {
    const err = call(status, '{"error":"x","status":0}');
    expect(err).toBeInstanceOf(type);
    expect(err.retryable).toBe(retryable);
  });

  it.each([
    [500, '{"error":"create pod: There are no instances currently available","status":500}'],
    [500, '{"errors":[{"message":"There are no longer any instances available with the requested specifications. Please refresh and try again."}]}'],
    [400, '{"error":"There are no longer any instances available with the requested specifications"}'],
    [503, "There are no longer any instances available with the requested specifications"],
  ])("no capacity is read from the message whatever the status (%p)", (status, body) => {
    const err = call(status, body);
    expect(err).toBeInstanceOf(NoCapacityError);
    expect(err.retryable).toBe(true);
    expect(err.code).toBe("RUNPOD_NO_CAPACITY");
  });

  it("carries Retry-After on 429 and RunPod's message in the error", () => {
    const err = call(429, '{"error":"slow down","status":429}', "2");
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(2_000);
    expect(err.message).toBe("RunPod POST /pods answered 429: slow down");
    expect(err.details).toMatchObject({ endpoint: "/pods", status: 429, runpodMessage: "slow down" });
  });

  it("never lets the key through, even when RunPod echoes it", () => {
    const err = call(401, `{"error":"invalid key ${KEY} (Authorization: Bearer ${KEY})"}`);
    const everything = JSON.stringify({ message: err.message, details: err.details, err });
    expect(everything).not.toContain(KEY);
    expect(err.message).toContain("[REDACTED]");
  });
});

describe("extractRunPodMessage", () => {
  it.each([
    ['{"error":"pod not found","status":404}', "pod not found"],
    ['{"message":"Unauthorized"}', "Unauthorized"],
    ['{"errors":[{"message":"gql says no"}]}', "gql says no"],
    ['{"error":{"message":"nested"}}', "nested"],
    ["<html>Bad Gateway</html>", "<html>Bad Gateway</html>"],
    ["", ""],
  ])("%p gives %p", (body, message) => {
    expect(extractRunPodMessage(body)).toBe(message);
  });

  it("cuts long bodies", () => {
    expect(extractRunPodMessage("x".repeat(10_000))).toHaveLength(500);
  });
});

describe("isNoCapacityMessage / scrubSecret", () => {
  it("does not mistake other 500s for no capacity", () => {
    expect(isNoCapacityMessage("create pod: Your account balance is too low to rent a pod.")).toBe(false);
  });
  it("removes the key and bearer credentials", () => {
    expect(scrubSecret(`k=${KEY} Bearer abc`, KEY)).toBe("k=[REDACTED] Bearer [REDACTED]");
  });
});

describe("classifyFetchFailure", () => {
  const where = { method: "GET", endpoint: "/pods", attempt: 2, timeoutMs: 10 };
  it("names a timeout", () => {
    const err = classifyFetchFailure(new DOMException("The operation was aborted due to timeout", "TimeoutError"), where);
    expect(err.reason).toBe("timeout");
    expect(err.message).toBe("RunPod GET /pods timed out after 10 ms");
    expect(err.retryable).toBe(true);
  });
  it("names a network error by its code", () => {
    const cause = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    const err = classifyFetchFailure(new TypeError("fetch failed", { cause }), where);
    expect(err.reason).toBe("network");
    expect(err.message).toBe("RunPod GET /pods failed: network error (ECONNRESET)");
    expect(err.details).toMatchObject({ code: "ECONNRESET", attempt: 2 });
  });
});
