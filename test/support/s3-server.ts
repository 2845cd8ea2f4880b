import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { freePort } from "./free-port";

/**
 * The tests' S3-compatible server: LocalStack (S3 only), run from the venv of scripts/s3-server-venv.sh, no Docker.
 * Chosen because it acts like AWS S3 where the tests need it: it refuses expired presigned URLs, checks their SigV4
 * signatures, and checks x-amz-checksum-sha256 (whole objects and multipart parts). Unlike AWS it does not check
 * the signature of ordinary (header-signed) requests: any credentials work there. test/global-setup.ts starts one per
 * jest run and hands its endpoint to the test files in TRAINPOD_TEST_S3_ENDPOINT; a test file takes a bucket of its
 * own with useTestBucket().
 */
export const S3_ENDPOINT_ENV = "TRAINPOD_TEST_S3_ENDPOINT";
export const TEST_S3_REGION = "us-east-1";
/** LocalStack takes any key pair; presigned URLs must be signed with the one they name */
export const TEST_S3_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

const root = path.resolve(__dirname, "..", "..");
const READY_TIMEOUT_MS = 60_000;

export interface S3Server {
  /** e.g. http://127.0.0.1:41234 (path-style) */
  endpoint: string;
  pid: number;
  /** kills the server's process group, then removes its temp dir */
  stop(): Promise<void>;
}

/** The venv's python: S3_SERVER_PYTHON (CI sets it), else what scripts/s3-server-venv.sh builds or finds. */
async function serverPython(): Promise<string> {
  const fromEnv = process.env.S3_SERVER_PYTHON;
  if (fromEnv) return fromEnv;
  const script = path.join(root, "scripts", "s3-server-venv.sh");
  const child = spawn(script, [], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve); // after its output was read
  });
  const python = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || python === "")
    throw new Error(`${script} failed (exit code ${code}): cannot start the S3 test server`);
  return python;
}

/** Starts LocalStack (S3 only) on a free port in a temp dir of its own; resolves once S3 answers. */
export async function startS3Server(): Promise<S3Server> {
  const python = await serverPython();
  // a free port can be taken before LocalStack binds it (parallel test runs): the server then exits, try another
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(python);
    } catch (err) {
      if (!(err instanceof ExitedEarly) || attempt === 3) throw err;
    }
  }
}

class ExitedEarly extends Error {}

async function startOnce(python: string): Promise<S3Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tp-s3-server-"));
  const fsRoot = path.join(dir, "fs");
  // the service catalog the venv script built once (LocalStack would spend seconds building it at each start)
  const catalog = path.join(path.dirname(path.dirname(python)), "localstack-fs", "usr", "lib", "localstack");
  if (existsSync(catalog)) {
    mkdirSync(path.join(fsRoot, "usr", "lib"), { recursive: true });
    symlinkSync(catalog, path.join(fsRoot, "usr", "lib", "localstack"));
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const launcher = path.join(root, "test", "s3", "launch-localstack.py"); // dies with us; writes the certificate
  const child = spawn(python, [launcher, path.join(dir, "server.pem"), String(process.pid)], {
    cwd: dir,
    detached: true, // its own process group, which stop() kills whole
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      PYTHONUNBUFFERED: "1", // its "Ready." must reach us when it is printed
      HOME: dir,
      TMPDIR: dir, // LocalStack clears <tmp>/localstack at start and exit: this one is ours alone
      SERVICES: "s3",
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      LOCALSTACK_HOST: `127.0.0.1:${port}`,
      S3_SKIP_SIGNATURE_VALIDATION: "0",
      OVERRIDE_IN_DOCKER: "0", // every file under FILESYSTEM_ROOT, nothing in /var/lib/localstack
      FILESYSTEM_ROOT: fsRoot,
      DNS_ADDRESS: "0",
      DISABLE_EVENTS: "1",
      SKIP_SSL_CERT_DOWNLOAD: "1",
      CUSTOM_SSL_CERT_PATH: path.join(dir, "server.pem"),
    },
  });
  // neither the server nor its output keeps jest alive: a run that skips the teardown still ends (and the
  // server dies with it)
  child.unref();
  let log = "";
  let saidReady = false;
  for (const out of [child.stdout, child.stderr]) {
    out.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString("utf8")).slice(-6000);
      saidReady ||= log.includes("Ready.");
    });
    (out as unknown as { unref(): void }).unref();
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid ?? 0;
  const killGroup = (): void => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", killGroup);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener("exit", killGroup);
      child.ref(); // keeps this process up until the server's exit is seen
      // SIGKILL at once: its state is thrown away with its dir, and a graceful stop costs every jest run ~1.3 s
      killGroup();
      if (child.exitCode === null && child.signalCode === null) await exited;
      rmSync(dir, { recursive: true, force: true });
    })());

  const started = Date.now();
  const died = (): boolean => child.exitCode !== null || child.signalCode !== null;
  try {
    // "Ready." from our process first: a health answer alone could come from another server on a reused port
    await waitUntilReady(endpoint, died, () => saidReady);
  } catch (err) {
    const early = died();
    await stop();
    const message =
      `the S3 test server (LocalStack, ${python}) did not start on ${endpoint}: ${(err as Error).message} ` +
      `after ${Date.now() - started} ms (exit code ${child.exitCode}, signal ${child.signalCode}). Log tail:\n${log}`;
    throw early ? new ExitedEarly(message, { cause: err }) : new Error(message, { cause: err });
  }
  return { endpoint, pid, stop };
}

async function waitUntilReady(endpoint: string, died: () => boolean, saidReady: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (died()) throw new Error("the process exited");
    if (Date.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
    if (saidReady()) {
      try {
        const health = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(2_000) });
        const body = (await health.json()) as { services?: Record<string, string> };
        const s3 = body.services?.s3;
        if (health.ok && (s3 === "available" || s3 === "running")) break;
      } catch {
        // not answering yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // health answers before the S3 provider is loaded: one S3 request loads it, so no test pays for it
  const warm = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now())) });
  await warm.arrayBuffer();
  if (warm.status !== 200 && warm.status !== 403) throw new Error(`S3 answered ${warm.status} to ListBuckets`);
}

/** An S3 client for the test server (path-style; checksums only where S3 requires them, as in production). */
export function testS3Client(endpoint: string): S3Client {
  // the SDK's documented switch for its "Node 20 support ends" warning, as in core's createS3Client
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    endpoint,
    region: TEST_S3_REGION,
    forcePathStyle: true,
    credentials: TEST_S3_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export interface TestBucket {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** what a trainpod process needs to use the bucket (STORAGE=s3, S3_*, AWS_* credentials) */
  env: Record<string, string>;
  /** a client on the bucket's server, for checks the code under test does not offer */
  client: S3Client;
}

/** A name from the test file's, plus random: 3-63 lowercase letters, digits and dashes. */
function bucketName(testPath: string | undefined): string {
  const base = path
    .basename(testPath ?? "test")
    .replace(/\.test\.ts$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 40)
    .replace(/^-+|-+$/g, "");
  return `tp-${base || "test"}-${randomBytes(6).toString("hex")}`;
}

/**
 * A bucket of this test file's own on the shared server: created in beforeAll, emptied (objects and unfinished
 * multipart uploads) and deleted in afterAll. Call it at the top of a test file. It also puts the credentials in
 * this file's process.env (jest gives each test file its own copy), where in-process code finds them through the
 * SDK's default chain (createBlobStorage, an API a test starts in its own process); `env` is for child processes.
 */
export function useTestBucket(): TestBucket {
  const endpoint = process.env[S3_ENDPOINT_ENV];
  if (!endpoint) {
    throw new Error(
      `${S3_ENDPOINT_ENV} is not set: the S3 test server is started by test/global-setup.ts (run jest from the repository root)`,
    );
  }
  process.env.AWS_ACCESS_KEY_ID = TEST_S3_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_S3_CREDENTIALS.secretAccessKey;
  const bucket = bucketName(expect.getState().testPath);
  const client = testS3Client(endpoint);
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    try {
      await emptyAndDeleteBucket(client, bucket);
    } finally {
      client.destroy();
    }
  });
  return {
    endpoint,
    bucket,
    region: TEST_S3_REGION,
    credentials: TEST_S3_CREDENTIALS,
    client,
    env: {
      STORAGE: "s3",
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: TEST_S3_REGION,
      S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
    },
  };
}

async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    await Promise.all(
      (page.Contents ?? []).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))),
    );
    token = page.NextContinuationToken;
  } while (token);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

const SHARED = Symbol.for("trainpod.test.s3Server");
type WithShared = typeof globalThis & { [SHARED]?: S3Server };

/**
 * For test/global-setup.ts: starts the run's server and puts its endpoint in TRAINPOD_TEST_S3_ENDPOINT, which
 * jest's workers inherit. When that variable is set already (a server you keep running while you iterate), uses it.
 */
export async function startSharedS3Server(): Promise<void> {
  if (process.env[S3_ENDPOINT_ENV]) return;
  const server = await startS3Server();
  (globalThis as WithShared)[SHARED] = server;
  process.env[S3_ENDPOINT_ENV] = server.endpoint;
}

/** For test/global-teardown.ts. */
export async function stopSharedS3Server(): Promise<void> {
  const shared = globalThis as WithShared;
  const server = shared[SHARED];
  delete shared[SHARED];
  if (server) {
    await server.stop();
    delete process.env[S3_ENDPOINT_ENV];
  }
}
