import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { useTestBucket } from "../../../../test/support/s3-server";
import { describeBlobStorageContract, errorCode, readAll, type ContractStore } from "./blob-storage.contract";
import { S3BlobStorage } from "./s3-blob-storage";

const MiB = 1024 * 1024;
const s3 = useTestBucket();

/** the objects and unfinished multipart uploads under a prefix, by key below it */
async function underPrefix(prefix: string): Promise<string[]> {
  const objects = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }));
  return [
    ...(objects.Contents ?? []).map((o) => (o.Key ?? "").slice(prefix.length)),
    ...(uploads.Uploads ?? []).map((u) => `unfinished upload of ${(u.Key ?? "").slice(prefix.length)}`),
  ].sort();
}

/** each test on a storage of its own: a random folder of the bucket, then `datasets/` */
function openStore(): ContractStore {
  const prefix = `t-${randomBytes(4).toString("hex")}/datasets/`;
  const storage = new S3BlobStorage({ client: s3.client, bucket: s3.bucket, prefix, uploadPartBytes: 5 * MiB });
  return { storage, leftovers: () => underPrefix(prefix) };
}

describeBlobStorageContract("S3BlobStorage", openStore);

describe("S3BlobStorage", () => {
  it("keeps its objects under its prefix: another prefix does not see them", async () => {
    const artifacts = new S3BlobStorage({ client: s3.client, bucket: s3.bucket, prefix: "artifacts/" });
    const datasets = new S3BlobStorage({ client: s3.client, bucket: s3.bucket, prefix: "datasets/" });
    await artifacts.put("d1/adapter.bin", Readable.from([Buffer.from("weights")]));
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: "artifacts/d1/adapter.bin" }));
    expect(head.ContentLength).toBe(7);
    expect(await datasets.stat("d1/adapter.bin")).toBeNull();
    expect(await errorCode(datasets.get("d1/adapter.bin"))).toBe("NOT_FOUND");
    await artifacts.delete("d1/adapter.bin");
  });

  it("connects from an endpoint, a region and credentials", async () => {
    const storage = new S3BlobStorage({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: s3.credentials,
      bucket: s3.bucket,
      prefix: "conn/",
    });
    await storage.put("a.txt", Readable.from([Buffer.from("signed")]));
    expect((await readAll((await storage.get("a.txt")).stream)).toString()).toBe("signed");
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: "conn/a.txt" }));
    expect(head.ContentLength).toBe(6);
  });

  it("refuses a prefix that is not a safe folder", () => {
    const make = (prefix: string) => () => new S3BlobStorage({ client: s3.client, bucket: s3.bucket, prefix });
    expect(make("datasets")).toThrow("must end with /");
    expect(make("../datasets/")).toThrow("invalid storage key");
    expect(make("/datasets/")).toThrow("invalid storage key");
    expect(make("datasets/")).not.toThrow();
    expect(make("")).not.toThrow();
  });
});
