import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { parseRateLimit, parseRateLimitPolicy } from "./rate-budget-headers";

const SPEC = path.resolve(__dirname, "../../../../../shared/runpod/openapi-v2.json");

/** The examples RunPod's spec gives for its two headers (fallback: the same strings, copied 2026-08-20). */
function specExamples(): { rateLimit: string; policy: string } {
  if (!existsSync(SPEC)) {
    console.warn(`${SPEC} is absent: using the examples as copied from it`);
    return {
      rateLimit: '"minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012',
      policy: '"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400',
    };
  }
  const spec = JSON.parse(readFileSync(SPEC, "utf8")) as {
    components: { schemas: Record<string, { examples: string[] }> };
  };
  const first = (name: string): string => spec.components.schemas[name]?.examples[0] ?? "";
  return { rateLimit: first("RateLimitHeader"), policy: first("RateLimitPolicyHeader") };
}

describe("parseRateLimit", () => {
  it("reads the spec's example", () => {
    expect(parseRateLimit(specExamples().rateLimit)).toEqual([
      { name: "minute", r: 0, t: 12 },
      { name: "hour", r: 2800, t: 1812 },
      { name: "day", r: 49500, t: 45012 },
    ]);
  });

  it.each([
    ["bare tokens and no spaces", "minute;r=5;t=3,hour;r=7;t=9"],
    ["spaces and tabs around , ; =", ' "minute" ; r = 5 ;\tt=3 ,\t"hour";r=7 ; t = 9 '],
    [
      "unknown parameters, a boolean one, upper-case keys",
      '"minute";pk=:YWJj:;r=5;X=1;t=3;flag, "hour";R=7;t=9;qu="requests"',
    ],
  ])("reads %s", (_label, header) => {
    expect(parseRateLimit(header)).toEqual([
      { name: "minute", r: 5, t: 3 },
      { name: "hour", r: 7, t: 9 },
    ]);
  });

  it("keeps quoted names whole, commas and escaped quotes included", () => {
    expect(parseRateLimit('"a, \\"b\\"";r=1;t=2, "c";r=3;t=4')).toEqual([
      { name: 'a, "b"', r: 1, t: 2 },
      { name: "c", r: 3, t: 4 },
    ]);
  });

  it("skips a malformed member and keeps the others", () => {
    const header = [
      '"bad1";r=-1;t=5', // negative
      '"bad2";r=abc;t=5', // not a number
      '"bad3";t=5', // no r
      '"bad4";r=1;t=5 junk', // trailing garbage
      '"bad5";r=1;;t=5', // empty parameter
      "(inner list);r=1;t=5",
      "",
      '"ok";r=4;t=6',
      '"unterminated;r=1;t=1',
    ].join(", ");
    expect(parseRateLimit(header)).toEqual([{ name: "ok", r: 4, t: 6 }]);
  });

  it("keeps a window without t (reset unknown) and floors a decimal r", () => {
    expect(parseRateLimit('"minute";r=5.9')).toEqual([{ name: "minute", r: 5 }]);
  });

  it("takes the first of a repeated parameter", () => {
    expect(parseRateLimit('"minute";r=5;r=9;t=1')).toEqual([{ name: "minute", r: 5, t: 1 }]);
  });

  it.each([
    [null],
    [undefined],
    [""],
    ["   "],
    ["garbage"],
    ["limit=100, remaining=50, reset=5"],
    ['"minute";r=?1;t=1'],
  ])("answers null for %p", (header) => {
    expect(parseRateLimit(header)).toBeNull();
  });
});

describe("parseRateLimitPolicy", () => {
  it("reads the spec's example", () => {
    expect(parseRateLimitPolicy(specExamples().policy)).toEqual([
      { name: "minute", q: 60, w: 60 },
      { name: "hour", q: 3000, w: 3600 },
      { name: "day", q: 50000, w: 86400 },
    ]);
  });

  it("reads decimals and skips windows of 0 s or without q or w", () => {
    expect(parseRateLimitPolicy('burst;q=10;w=0.5, "zero";q=5;w=0, "noq";w=60, "now";q=5, "ok";q=7;w=60')).toEqual([
      { name: "burst", q: 10, w: 0.5 },
      { name: "ok", q: 7, w: 60 },
    ]);
  });

  it.each([[null], [""], ['"minute";q=60;w=-60'], [",,,"]])("answers null for %p", (header) => {
    expect(parseRateLimitPolicy(header)).toBeNull();
  });
});
