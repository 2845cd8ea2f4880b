import { classifyFetchFailure, classifyHttpError, extractRunPodMessage, readProblem, scrubSecret } from "./classify";
import {
  BadRequestError,
  BadResponseError,
  ConflictError,
  ContractViolationError,
  ForbiddenError,
  InsufficientBalanceError,
  NoCapacityError,
  NotFoundError,
  RateLimitedError,
  RunPodUnavailableError,
  UnauthorizedError,
} from "./errors";

const KEY = "rpa_SECRETKEY0123456789";
const problem = (status: number, detail: string, errors?: string[]) =>
  JSON.stringify({ title: "x", status, detail, ...(errors ? { errors } : {}) });
const call = (status: number, bodyText = "", retryAfter: string | null = null, method = "POST", endpoint = "/pods") =>
  classifyHttpError({ method, endpoint, status, bodyText, retryAfter, attempt: 1, apiKey: KEY, nowMs: 0 });

describe("classifyHttpError (createPod's table in the v2 spec)", () => {
  it.each([
    [400, NoCapacityError, true],
    [401, UnauthorizedError, false],
    [402, InsufficientBalanceError, false],
    [403, ForbiddenError, false],
    [404, NotFoundError, false],
    [409, ConflictError, false],
    [422, ContractViolationError, false],
    [429, RateLimitedError, true],
    [500, RunPodUnavailableError, true],
    [502, RunPodUnavailableError, true],
    [503, RunPodUnavailableError, true],
    [302, BadResponseError, false],
  ])("create answered %p is %p (retryable %p)", (status, type, retryable) => {
    const err = call(status, problem(status, "nope"));
    expect(err).toBeInstanceOf(type);
    expect(err.retryable).toBe(retryable);
  });

  it("400 means 'this candidate cannot be placed' only on create; elsewhere it is a bad request", () => {
    expect(call(400, problem(400, "bad"), null, "GET", "/catalog/gpus")).toBeInstanceOf(BadRequestError);
    expect(call(400, problem(400, "no capacity for this GPU"), null, "POST", "/pods")).toMatchObject({
      code: "RUNPOD_NO_CAPACITY",
    });
  });

  it("422 carries RunPod's list of violations, in the message and the error", () => {
    const err = call(
      422,
      problem(422, "request body does not match the contract", [
        "$.gpu: additional properties 'fallback' not allowed",
        "$.name: required",
      ]),
    );
    expect(err).toBeInstanceOf(ContractViolationError);
    expect((err as ContractViolationError).violations).toEqual([
      "$.gpu: additional properties 'fallback' not allowed",
      "$.name: required",
    ]);
    expect(err.message).toContain("$.name: required");
    expect(err.details).toMatchObject({
      status: 422,
      errors: ["$.gpu: additional properties 'fallback' not allowed", "$.name: required"],
    });
  });

  it("carries Retry-After on 429 and RunPod's detail in the error", () => {
    const err = call(429, problem(429, "rate limit exceeded for the minute window"), "2", "GET", "/pods");
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(2_000);
    expect(err.message).toBe("RunPod GET /pods answered 429: rate limit exceeded for the minute window");
    expect(err.details).toMatchObject({
      endpoint: "/pods",
      status: 429,
      runpodMessage: "rate limit exceeded for the minute window",
    });
  });

  it("never lets the key through, even when RunPod echoes it", () => {
    const err = call(401, problem(401, `invalid key ${KEY} (Authorization: Bearer ${KEY})`), null, "GET", "/pods");
    const everything = JSON.stringify({ message: err.message, details: err.details, err });
    expect(everything).not.toContain(KEY);
    expect(err.message).toContain("[REDACTED]");
  });
});

describe("readProblem / extractRunPodMessage", () => {
  it.each([
    [problem(404, "pod not found"), "pod not found"],
    ['{"title":"Not Found","status":404}', "Not Found"],
    ["<html>Bad Gateway</html>", "<html>Bad Gateway</html>"],
    ["", ""],
  ])("%p gives %p", (body, message) => {
    expect(extractRunPodMessage(body)).toBe(message);
  });

  it("reads the errors list of a 422 and cuts long bodies", () => {
    expect(readProblem(problem(422, "invalid", ["a", "b"]))).toEqual({ message: "invalid", errors: ["a", "b"] });
    expect(extractRunPodMessage("x".repeat(10_000))).toHaveLength(500);
  });
});

describe("scrubSecret", () => {
  it("removes the key and bearer credentials", () => {
    expect(scrubSecret(`k=${KEY} Bearer abc`, KEY)).toBe("k=[REDACTED] Bearer [REDACTED]");
  });
});

describe("classifyFetchFailure", () => {
  const where = { method: "GET", endpoint: "/pods", attempt: 2, timeoutMs: 10 };
  it("names a timeout", () => {
    const err = classifyFetchFailure(
      new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      where,
    );
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
