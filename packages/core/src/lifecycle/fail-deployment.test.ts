import { Prisma } from "../db";
import { AppError } from "../errors";
import { InsufficientBalanceError, NoCapacityError } from "../runpod/errors";
import { failureReasonOf, isFinalError } from "./fail-deployment";

describe("which errors end a job", () => {
  it("only what is known to be final: a non-retryable AppError, a query Prisma refused to build", () => {
    expect(isFinalError(new AppError("NOT_FOUND", "gone"))).toBe(true);
    expect(isFinalError(new InsufficientBalanceError("402"))).toBe(true);
    expect(isFinalError(new Prisma.PrismaClientValidationError("bad query", { clientVersion: "7" }))).toBe(true);
  });

  it("a transient or unknown error is retried: a retryable AppError, Prisma timeouts and lost connections, a Redis blip", () => {
    expect(isFinalError(new NoCapacityError("sold out"))).toBe(false);
    expect(isFinalError(new AppError("CONFLICT", "busy", { retryable: true }))).toBe(false);
    for (const code of ["P1001", "P1017", "P2024", "P2028", "P2034", "P2039"]) {
      const err = new Prisma.PrismaClientKnownRequestError(`prisma ${code}`, { code, clientVersion: "7" });
      expect([code, isFinalError(err)]).toEqual([code, false]);
    }
    expect(isFinalError(new Error("Connection is closed."))).toBe(false);
    expect(isFinalError("a thrown string")).toBe(false);
  });

  it("a failure that comes from such an error, on the last attempt, is INTERNAL_ERROR", () => {
    expect(
      failureReasonOf(new Prisma.PrismaClientKnownRequestError("timeout", { code: "P2024", clientVersion: "7" })),
    ).toBe("INTERNAL_ERROR");
  });
});
