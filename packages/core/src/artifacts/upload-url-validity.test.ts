import type { PrismaClient } from "../db";
import type { BlobStorage, DirectTransfer, PresignOptions } from "../storage";
import { ManualClock } from "../time/clock";
import { artifactUploadUrl } from "./finish-artifact";
import { MAX_PRESIGN_SECONDS, uploadUrlSeconds } from "./upload-url-validity";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("uploadUrlSeconds: a presigned PUT outlives its bytes at 1 MiB/s", () => {
  it.each([
    // bytes, S3_PRESIGN_SECONDS, valid seconds
    [0, 60, 60],
    [1, 60, 61],
    [64 * MiB, 60, 124], // the default part: 64 s at 1 MiB/s (S3_PRESIGN_SECONDS alone, 60, needed 1.07 MiB/s)
    [5 * GiB, 60, 5_180], // the largest part: 85 min 20 s at 1 MiB/s
    [5 * GiB, 600, 5_720],
  ])("%d bytes with S3_PRESIGN_SECONDS=%d: %d s", (bytes, presign, seconds) => {
    expect(uploadUrlSeconds(bytes, presign)).toBe(seconds);
  });

  it("never past SigV4's 7 days", () => {
    expect(uploadUrlSeconds(5 * GiB, 60, 1)).toBe(MAX_PRESIGN_SECONDS);
    expect(MAX_PRESIGN_SECONDS).toBe(604_800);
  });
});

describe("artifactUploadUrl signs each PUT for its own size", () => {
  function deps(row: Record<string, unknown>) {
    const asked: Array<{ kind: string; sizeBytes: number; expiresInSeconds: number }> = [];
    const answer = (o: PresignOptions) => ({
      method: "PUT" as const,
      url: "https://bucket.example/x",
      headers: {},
      expiresAt: new Date(Date.UTC(2026, 11, 7) + o.expiresInSeconds * 1000),
    });
    const direct = {
      presignPut: async (_key: string, o: PresignOptions & { sizeBytes: number }) => {
        asked.push({ kind: "put", sizeBytes: o.sizeBytes, expiresInSeconds: o.expiresInSeconds });
        return answer(o);
      },
      presignPart: async (_key: string, _id: string, part: { sizeBytes: number }, o: PresignOptions) => {
        asked.push({ kind: "part", sizeBytes: part.sizeBytes, expiresInSeconds: o.expiresInSeconds });
        return answer(o);
      },
    } as unknown as DirectTransfer;
    const prisma = {
      artifact: { findUnique: async () => ({ status: "UPLOADING", storageKey: "d1/model.bin", ...row }) },
    } as unknown as PrismaClient;
    const limits = { maxFileBytes: 100 * GiB, maxTotalBytes: 100 * GiB, partSizeBytes: 5 * GiB, presignSeconds: 60 };
    return { asked, deps: { prisma, clock: new ManualClock(), storage: { direct } as BlobStorage, limits } };
  }
  const sha = "a".repeat(64);

  it("a single PUT of 200 MiB: 60 + 200 s", async () => {
    const t = deps({ path: "model.bin", sizeBytes: 200n * BigInt(MiB), sha256: sha, uploadId: null });
    await artifactUploadUrl(t.deps, "d1", { path: "model.bin" });
    expect(t.asked).toEqual([{ kind: "put", sizeBytes: 200 * MiB, expiresInSeconds: 260 }]);
  });

  it("parts of 5 GiB: each 60 + 5,120 s; the short last part less", async () => {
    const size = 11n * BigInt(GiB); // parts of 5, 5 and 1 GiB
    const t = deps({
      path: "model.bin",
      sizeBytes: size,
      sha256: sha,
      uploadId: "u1",
      partSizeBytes: 5n * BigInt(GiB),
    });
    await artifactUploadUrl(t.deps, "d1", { path: "model.bin", partNumber: 1, sha256: sha });
    await artifactUploadUrl(t.deps, "d1", { path: "model.bin", partNumber: 3, sha256: sha });
    expect(t.asked).toEqual([
      { kind: "part", sizeBytes: 5 * GiB, expiresInSeconds: 5_180 },
      { kind: "part", sizeBytes: GiB, expiresInSeconds: 1_084 },
    ]);
  });
});
