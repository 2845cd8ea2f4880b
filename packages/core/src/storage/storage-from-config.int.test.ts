import path from "node:path";
import { Readable } from "node:stream";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { useTestBucket } from "../../../../test/support/s3-server";
import { loadConfig } from "../config";
import { readAll } from "./blob-storage.contract";
import { LocalFileStorage } from "./local-file-storage";
import { S3BlobStorage } from "./s3-blob-storage";
import { createBlobStorage } from "./storage-from-config";

const s3 = useTestBucket();

describe("createBlobStorage", () => {
  it("STORAGE=local (the default): the folders DATASET_DIR and ARTIFACT_DIR, no direct transfer", () => {
    const config = loadConfig({ DATASET_DIR: "/srv/tp/datasets", ARTIFACT_DIR: "/srv/tp/artifacts" });
    const datasets = createBlobStorage(config, "datasets");
    const artifacts = createBlobStorage(config, "artifacts");
    expect([datasets instanceof LocalFileStorage, (datasets as LocalFileStorage).root]).toEqual([
      true,
      path.resolve("/srv/tp/datasets"),
    ]);
    expect([artifacts instanceof LocalFileStorage, (artifacts as LocalFileStorage).root]).toEqual([
      true,
      path.resolve("/srv/tp/artifacts"),
    ]);
    expect(datasets.direct).toBeUndefined();
  });

  describe("STORAGE=s3", () => {
    // the credentials come from the SDK's default chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which
    // useTestBucket put in this file's process.env
    it("the bucket S3_BUCKET at S3_ENDPOINT, under datasets/ and artifacts/, with direct transfer", async () => {
      const config = loadConfig({ ...s3.env });
      const datasets = createBlobStorage(config, "datasets");
      const artifacts = createBlobStorage(config, "artifacts");
      expect([datasets instanceof S3BlobStorage, (datasets as S3BlobStorage).prefix]).toEqual([true, "datasets/"]);
      expect(artifacts.direct).toBe(artifacts); // S3BlobStorage is its own DirectTransfer

      await artifacts.put("d1/adapter.bin", Readable.from([Buffer.from("weights")]));
      const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: "artifacts/d1/adapter.bin" }));
      expect(head.ContentLength).toBe(7);
      expect(await datasets.stat("d1/adapter.bin")).toBeNull();
      const req = await artifacts.direct?.presignGet("d1/adapter.bin", {
        expiresInSeconds: config.env.S3_PRESIGN_SECONDS,
      });
      expect(req?.url.startsWith(`${s3.endpoint}/${s3.bucket}/artifacts/d1/adapter.bin?`)).toBe(true); // path-style
      expect((await readAll((await artifacts.get("d1/adapter.bin")).stream)).toString()).toBe("weights");
    });
  });
});
