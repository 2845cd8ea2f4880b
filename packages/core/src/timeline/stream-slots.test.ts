import { AppError } from "../errors";
import { StreamSlots } from "./stream-slots";

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? { code: err.code, details: err.details } : err;
  }
  return "acquired";
}

describe("StreamSlots", () => {
  it("refuses a user's stream past the per-user limit and takes it again once one is released", () => {
    const slots = new StreamSlots({ perUser: 2, total: 10 });
    const first = slots.acquire("alice");
    slots.acquire("alice");
    expect(refusal(() => slots.acquire("alice"))).toEqual({
      code: "RATE_LIMITED",
      details: { limit: 2, scope: "user" },
    });
    expect(refusal(() => slots.acquire("bob"))).toBe("acquired");
    first();
    expect(refusal(() => slots.acquire("alice"))).toBe("acquired");
    expect(slots.size).toBe(3);
  });

  it("refuses anyone past the server-wide limit", () => {
    const slots = new StreamSlots({ perUser: 5, total: 2 });
    slots.acquire("alice");
    const bob = slots.acquire("bob");
    expect(refusal(() => slots.acquire("carol"))).toEqual({
      code: "RATE_LIMITED",
      details: { limit: 2, scope: "server" },
    });
    bob();
    expect(refusal(() => slots.acquire("carol"))).toBe("acquired");
  });

  it("a release called twice gives back one slot", () => {
    const slots = new StreamSlots({ perUser: 1, total: 1 });
    const release = slots.acquire("alice");
    release();
    release();
    expect(slots.size).toBe(0);
    slots.acquire("alice");
    expect(refusal(() => slots.acquire("bob"))).toEqual({
      code: "RATE_LIMITED",
      details: { limit: 1, scope: "server" },
    });
  });
});
