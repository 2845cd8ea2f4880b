import { BadRequestError, NoCapacityError, RateLimitedError, RunPodUnavailableError } from "./errors";
import { MAX_RETRY_AFTER_MS, backoffDelayMs, parseRetryAfter, retryDelayMs } from "./backoff";

const opts = { baseDelayMs: 200, maxDelayMs: 5_000 };

describe("backoffDelayMs (full jitter)", () => {
  it("stays within [0, min(max, base * 2^(attempt-1)))", () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const ceiling = Math.min(5_000, 200 * 2 ** (attempt - 1));
      expect(backoffDelayMs(attempt, opts, () => 0)).toBe(0);
      const top = backoffDelayMs(attempt, opts, () => 0.999999);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  it("draws across the whole range with Math.random", () => {
    const samples = Array.from({ length: 2_000 }, () => backoffDelayMs(3, opts));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(800);
    expect(Math.max(...samples)).toBeGreaterThan(600);
    expect(Math.min(...samples)).toBeLessThan(200);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it.each([
    ["3", 3_000],
    ["0", 0],
    ["1.5", 1_500],
    [" 2 ", 2_000],
    ["Thu, 01 Jan 2026 12:00:07 GMT", 7_000],
    ["Thu, 01 Jan 2026 11:59:00 GMT", 0],
  ])("%p is %p ms", (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([null, undefined, "", "soon", "-1"])("%p is undefined", (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});

describe("retryDelayMs", () => {
  const base = { ...opts, attempt: 1, maxRetries: 4, retryAmbiguous: true, random: () => 0.5 };
  const unavailable = new RunPodUnavailableError("503", "server");

  it("backs off on 5xx, timeouts and network errors when the request may be repeated", () => {
    expect(retryDelayMs({ ...base, error: unavailable })).toBe(100);
    expect(retryDelayMs({ ...base, attempt: 3, error: new RunPodUnavailableError("t", "timeout") })).toBe(400);
  });

  it("does not repeat an ambiguous failure when the request is not safe to repeat (create)", () => {
    expect(
      retryDelayMs({ ...base, retryAmbiguous: false, error: new RunPodUnavailableError("drop", "network") }),
    ).toBeNull();
  });

  it("always retries 429, waiting Retry-After when given", () => {
    expect(retryDelayMs({ ...base, retryAmbiguous: false, error: new RateLimitedError("429", 1_234) })).toBe(1_234);
    expect(retryDelayMs({ ...base, error: new RateLimitedError("429", undefined) })).toBe(100);
    expect(retryDelayMs({ ...base, error: new RateLimitedError("429", MAX_RETRY_AFTER_MS + 1) })).toBeNull();
  });

  it("never retries final errors or no capacity inside the call", () => {
    expect(retryDelayMs({ ...base, error: new BadRequestError("400") })).toBeNull();
    expect(retryDelayMs({ ...base, error: new NoCapacityError("none") })).toBeNull();
  });

  it("gives up after maxRetries retries", () => {
    expect(retryDelayMs({ ...base, attempt: 4, error: unavailable })).not.toBeNull();
    expect(retryDelayMs({ ...base, attempt: 5, error: unavailable })).toBeNull();
  });
});
