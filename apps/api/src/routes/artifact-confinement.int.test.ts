/**
 * The API's artifact routes (STORAGE=local) keep every file inside ARTIFACT_DIR/<deploymentId>, even where a
 * symlink inside that folder points into another deployment's folder: the pod's PUT is refused, the owner's
 * download is refused, and the other deployment's file is untouched. Security review, finding 7; the storage
 * itself: packages/core/src/artifacts/artifact-confinement.int.test.ts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { createUserWithKey, mintRunToken } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let owner: { id: string; key: string; dataset: string };

beforeAll(async () => {
  h = await startTestApi();
  const u = await createUserWithKey(h.db.prisma, { email: "artifacts@example.com" });
  owner = { id: u.user.id, key: u.key, dataset: (await makeDataset(h.db.prisma, u.user.id)).id };
});
afterAll(async () => {
  await h?.close();
});

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const errorCode = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;
const folder = (deploymentId: string, ...rest: string[]) => path.join(h.config.env.ARTIFACT_DIR, deploymentId, ...rest);

async function run(): Promise<{ id: string; token: string }> {
  const id = await insertDeployment(h, owner.id, owner.dataset);
  return {
    id,
    token: (await mintRunToken({ prisma: h.db.prisma, clock: h.clock, config: h.config }, { deploymentId: id })).token,
  };
}

async function upload(
  pod: { id: string; token: string },
  p: string,
  data: Buffer,
): Promise<[number, string | undefined]> {
  const headers = { authorization: `Bearer ${pod.token}` };
  const declared = await fetch(`${h.url}/v1/runs/${pod.id}/artifacts`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ path: p, sizeBytes: data.length, sha256: sha256(data) }),
  });
  if (declared.status !== 201) return [declared.status, await errorCode(declared)];
  const put = await fetch(`${h.url}/v1/runs/${pod.id}/artifacts/${p}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/octet-stream" },
    body: data,
  });
  return [put.status, put.status === 201 ? undefined : await errorCode(put)];
}

const download = (deploymentId: string, p: string) =>
  fetch(`${h.url}/v1/deployments/${deploymentId}/artifacts/${p}`, {
    headers: { authorization: `Bearer ${owner.key}` },
  });

describe("artifact routes and symlinks inside a deployment's folder", () => {
  it("the pod's PUT through a symlink into another deployment's folder: 400 VALIDATION_FAILED, the other file unchanged", async () => {
    const [mine, theirs] = [await run(), await run()];
    expect(await upload(theirs, "lora/adapter.bin", Buffer.from("their adapter"))).toEqual([201, undefined]);
    mkdirSync(folder(mine.id), { recursive: true });
    symlinkSync(folder(theirs.id, "lora"), folder(mine.id, "lora"));
    expect(await upload(mine, "lora/adapter.bin", Buffer.from("overwritten!!"))).toEqual([400, "VALIDATION_FAILED"]);
    expect(readFileSync(folder(theirs.id, "lora", "adapter.bin")).toString()).toBe("their adapter");
    expect((await download(theirs.id, "lora/adapter.bin")).status).toBe(200);
  });

  it("the owner's download of a file whose folder became such a symlink: a JSON 400, not the other deployment's bytes", async () => {
    const [mine, theirs] = [await run(), await run()];
    expect(await upload(mine, "model/w.bin", Buffer.from("mine"))).toEqual([201, undefined]);
    expect(await upload(theirs, "model/w.bin", Buffer.from("secret"))).toEqual([201, undefined]);
    expect(await (await download(mine.id, "model/w.bin")).text()).toBe("mine");
    rmSync(folder(mine.id, "model"), { recursive: true });
    symlinkSync(folder(theirs.id, "model"), folder(mine.id, "model"));
    const res = await download(mine.id, "model/w.bin");
    expect([res.status, res.headers.get("content-type"), res.headers.get("content-disposition")]).toEqual([
      400,
      "application/json; charset=utf-8",
      null,
    ]);
    expect(await errorCode(res)).toBe("VALIDATION_FAILED");
  });
});
