/**
 * No artifact path leaves ARTIFACT_DIR/<deploymentId>: not encoded, not with `..`, not absolute, and not through
 * a symlink inside the deployment's folder (or the folder itself a symlink) that points into another
 * deployment's folder. Driven through what the API's routes call: reserveArtifact + storeArtifactThroughApi
 * (PUT /v1/runs/:id/artifacts/<path>), storedArtifact + storage.get (GET /v1/deployments/:id/artifacts/<path>),
 * deleteArtifacts (DELETE /v1/deployments/:id/artifacts), on the storage the API builds for STORAGE=local.
 * Security review, finding 7. The same through HTTP: apps/api/src/routes/artifact-confinement.int.test.ts.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { ZodError } from "zod";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { AppError } from "../errors";
import { LocalFileStorage } from "../storage";
import { ManualClock } from "../time/clock";
import { storedArtifact } from "./artifact-queries";
import { deleteArtifacts } from "./delete-artifacts";
import type { ArtifactDeps } from "./deps";
import { confineToDeploymentFolders } from "./deployment-folders";
import { storeArtifactThroughApi } from "./finish-artifact";
import { reserveArtifact } from "./reserve-artifact";

const db = useTestDatabase();
let root: string;
let deps: ArtifactDeps;
let owner: { userId: string; datasetId: string };

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "trainpod-artifact-dir-"));
  const storage = confineToDeploymentFolders(new LocalFileStorage(root));
  deps = {
    prisma: db.prisma,
    clock: new ManualClock(Date.now()),
    storage,
    limits: { maxFileBytes: 1_000_000, maxTotalBytes: 10_000_000, partSizeBytes: 5 * 1024 * 1024, presignSeconds: 60 },
  };
  const { user } = await makeUser(db.prisma);
  owner = { userId: user.id, datasetId: (await makeDataset(db.prisma, user.id)).id };
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

const deployment = async () => (await makeDeployment(db.prisma, owner)).id;

/** What the pod's upload does: declare, then send the bytes through the API. */
async function upload(deploymentId: string, p: string, data: Buffer) {
  await reserveArtifact(deps, deploymentId, { path: p, sizeBytes: data.length, sha256: sha256(data) });
  return storeArtifactThroughApi(deps, deploymentId, p, Readable.from([data]));
}

/** What the owner's download does: the stored row, then its bytes. */
async function download(deploymentId: string, p: string): Promise<Buffer> {
  const row = await storedArtifact(db.prisma, deploymentId, p);
  const object = await deps.storage.get(row.storageKey);
  const chunks: Buffer[] = [];
  for await (const c of object.stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** The error code `work` fails with, as the API answers it (a ZodError is 400 VALIDATION_FAILED); "resolved" when it does not fail. */
async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return "resolved";
  } catch (err) {
    if (err instanceof ZodError) return "VALIDATION_FAILED";
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`;
  }
}

/** Every file under the root, relative to it. */
const files = () =>
  readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => !f.includes(".tmp"));

describe("artifact paths stay inside ARTIFACT_DIR/<deploymentId>", () => {
  it("`..`, encoded, absolute, backslashed and dot paths are refused on upload (400) and not found on download (404); nothing is written", async () => {
    const id = await deployment();
    const before = files();
    for (const p of [
      "../escape.bin",
      "a/../../escape.bin",
      "/etc/escape.bin",
      "%2e%2e/escape.bin",
      "..%2fescape.bin",
      "a%2f..%2f..%2fescape.bin",
      "..\\escape.bin",
      "a/./b.bin",
      "./a.bin",
      "",
      "a//b.bin",
    ]) {
      expect([p, await codeOf(() => upload(id, p, Buffer.from("evil")))]).toEqual([p, "VALIDATION_FAILED"]);
      expect([p, await codeOf(() => download(id, p))]).toEqual([p, "NOT_FOUND"]);
    }
    expect(files()).toEqual(before);
  });

  it("a folder inside the deployment's folder that is a symlink to another deployment's folder: the upload is refused, the other file is untouched", async () => {
    const [mine, theirs] = [await deployment(), await deployment()];
    const original = Buffer.from("their adapter");
    await upload(theirs, "lora/adapter.bin", original);
    mkdirSync(path.join(root, mine), { recursive: true });
    symlinkSync(path.join(root, theirs, "lora"), path.join(root, mine, "lora"));
    expect(await codeOf(() => upload(mine, "lora/adapter.bin", Buffer.from("overwritten by another pod")))).toBe(
      "VALIDATION_FAILED",
    );
    expect(await codeOf(() => upload(mine, "lora/new.bin", Buffer.from("planted in another folder")))).toBe(
      "VALIDATION_FAILED",
    );
    expect(readFileSync(path.join(root, theirs, "lora", "adapter.bin"))).toEqual(original);
    expect(existsSync(path.join(root, theirs, "lora", "new.bin"))).toBe(false);
  });

  it("a stored file reached through such a symlink is not served, and the owner's delete does not remove the other deployment's file", async () => {
    const [mine, theirs] = [await deployment(), await deployment()];
    await upload(mine, "model/weights.bin", Buffer.from("mine"));
    await upload(theirs, "model/weights.bin", Buffer.from("theirs, secret"));
    expect((await download(mine, "model/weights.bin")).toString()).toBe("mine");
    rmSync(path.join(root, mine, "model"), { recursive: true });
    symlinkSync(path.join(root, theirs, "model"), path.join(root, mine, "model"));
    expect(await codeOf(() => download(mine, "model/weights.bin"))).toBe("VALIDATION_FAILED");
    await db.prisma.deployment.update({ where: { id: mine }, data: { status: "SUCCEEDED" } });
    expect(await codeOf(() => deleteArtifacts(deps, { id: mine, status: "SUCCEEDED" }, "owner"))).toBe(
      "VALIDATION_FAILED",
    );
    expect(readFileSync(path.join(root, theirs, "model", "weights.bin")).toString()).toBe("theirs, secret");
  });

  it("the deployment's folder itself a symlink to another deployment's folder: refused both ways", async () => {
    const [mine, theirs] = [await deployment(), await deployment()];
    await upload(theirs, "out.bin", Buffer.from("theirs"));
    await upload(mine, "out.bin", Buffer.from("mine"));
    rmSync(path.join(root, mine), { recursive: true });
    symlinkSync(path.join(root, theirs), path.join(root, mine));
    expect(await codeOf(() => download(mine, "out.bin"))).toBe("VALIDATION_FAILED");
    expect(await codeOf(() => upload(mine, "other.bin", Buffer.from("planted")))).toBe("VALIDATION_FAILED");
    expect(readdirSync(path.join(root, theirs))).toEqual(["out.bin"]);
  });

  it("a symlink that stays inside the deployment's own folder is followed", async () => {
    const mine = await deployment();
    await upload(mine, "checkpoints/final/model.bin", Buffer.from("final"));
    symlinkSync(path.join(root, mine, "checkpoints", "final"), path.join(root, mine, "latest"));
    await upload(mine, "latest/extra.bin", Buffer.from("extra"));
    expect(readFileSync(path.join(root, mine, "checkpoints", "final", "extra.bin")).toString()).toBe("extra");
  });
});
