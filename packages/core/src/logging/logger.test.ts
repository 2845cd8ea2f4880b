import { Writable } from "node:stream";
import winston from "winston";
import { createLogger } from "./logger";
import { REDACTED, redact, redactText } from "./redact";

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: createLogger({ service: "t", transports: [new winston.transports.Stream({ stream })] }) };
}

describe("logger", () => {
  it("writes one JSON line with service, level and child metadata", () => {
    const { lines, logger } = capture();
    logger.child({ deploymentId: "d-1", jobId: "j-1" }).info("hello", { requestId: "r-1" });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: "info",
      message: "hello",
      service: "t",
      deploymentId: "d-1",
      jobId: "j-1",
      requestId: "r-1",
    });
    expect(typeof entry.timestamp).toBe("string");
  });

  it("redacts secret keys at any depth and secret-looking text", () => {
    const { lines, logger } = capture();
    logger.info("call GET /v1/datasets/download?token=abcdefSECRET1", {
      apiKey: "tp_live_SECRET2",
      headers: { authorization: "Bearer SECRET3" },
      nested: { runToken: "SECRET4", note: "Bearer SECRET5" },
    });
    const out = lines.join("");
    for (const s of ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"]) expect(out).not.toContain(s);
    expect(out).toContain(REDACTED);
  });

  it("redacts a pod's whole env (users' secrets under any name) and Hugging Face tokens in text", () => {
    const pod = { id: "p1", env: { MY_THING: "SECRET6", HF_TOKEN: "hf_SECRET7" }, image: "img" };
    expect(redact({ pod })).toEqual({ pod: { id: "p1", env: REDACTED, image: "img" } });
    expect(redactText("401 for hf_abcdefghijklmnopqrstuvwxyzABCDEF1234 at /x")).toBe(`401 for ${REDACTED} at /x`);
  });

  it("redact keeps harmless values and masks token query parameters", () => {
    expect(redact({ a: 1, b: ["x"], password: "p" })).toEqual({ a: 1, b: ["x"], password: REDACTED });
    expect(redactText("/x?a=1&token=zzz&b=2")).toBe(`/x?a=1&token=${REDACTED}&b=2`);
  });
});
