import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream, type Stats } from "node:fs";
import { lstat, rename, rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { setTimeout as sleep } from "node:timers/promises";
import { toApiError, type ApiClient } from "./api-client";
import { encodeArtifactPath, PART_SUFFIX } from "./artifact-paths";
import { planAnswer, planPart, rangeHeaders, sha256Problem } from "./download-plan";
import { CliError } from "./exit-codes";

/** One file of GET /v1/deployments/:id/artifacts. */
export interface ArtifactFile {
  path: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt?: string;
}

export interface Downloaded {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** present: the file was there with the right sha256; resumed: a `.part` was continued */
  outcome: "present" | "downloaded" | "resumed";
  /** the byte a `.part` was continued from, if one was */
  resumedFrom: number | null;
}

export interface DownloadOptions {
  /** how many times a broken transfer is tried again, resuming (default 4) */
  retries?: number;
  /** the wait before try n is n × backoffMs (default 500) */
  backoffMs?: number;
  /** bytes of the file on disk so far (a resumed prefix included) */
  onProgress?(done: number, total: number): void;
  onRetry?(why: string, attempt: number): void;
}

/** A trouble worth another try (the network, a 5xx, an expired URL): the next try resumes. */
class Transient extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 3;

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function hashFile(file: string, hash: Hash = createHash("sha256")): Promise<Hash> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash;
}

function regularOrNull(stats: Stats | null, file: string, rel: string): Stats | null {
  if (stats && !stats.isFile())
    throw new CliError(`${rel}: ${file} exists and is not a regular file; move it away and pull again`);
  return stats;
}

/**
 * Downloads one artifact to `target`, through `<target>.part`, resuming a `.part` left by an earlier
 * try (Range + If-Range; a 200 starts over), and renames it to `target` only once its size and
 * sha256 match the list's and the answer's X-Content-SHA256 (a mismatch deletes the `.part`). The
 * API's `302` to a presigned store URL is followed here, sending the range headers but never the API
 * key. A file already at `target` with the right sha256 is kept as it is.
 */
export async function downloadArtifact(
  api: ApiClient,
  deploymentId: string,
  file: ArtifactFile,
  target: string,
  opts: DownloadOptions = {},
): Promise<Downloaded> {
  const sha256 = file.sha256.toLowerCase();
  const done = (outcome: Downloaded["outcome"], resumedFrom: number | null): Downloaded => ({
    path: file.path,
    sizeBytes: file.sizeBytes,
    sha256,
    outcome,
    resumedFrom,
  });
  const existing = regularOrNull(await lstatOrNull(target), target, file.path);
  if (existing?.size === file.sizeBytes && (await hashFile(target)).digest("hex") === sha256) {
    opts.onProgress?.(file.sizeBytes, file.sizeBytes);
    return done("present", null);
  }
  const url = new URL(
    api.url(`/v1/deployments/${encodeURIComponent(deploymentId)}/artifacts/${encodeArtifactPath(file.path)}`),
  );
  // If-Range validators by origin: the API's ETag is "sha256-<hex>"; a store's is its own, learnt from its answers
  const validators = new Map<string, string>([[url.origin, `"sha256-${sha256}"`]]);
  const retries = opts.retries ?? 4;
  const state: TryState = { validators, resumedFrom: null };
  for (let attempt = 1; ; attempt++) {
    try {
      await attemptDownload(api, url, file, `${target}${PART_SUFFIX}`, state, opts);
      await rename(`${target}${PART_SUFFIX}`, target);
      return done(state.resumedFrom === null ? "downloaded" : "resumed", state.resumedFrom);
    } catch (err) {
      if (!(err instanceof Transient) || attempt > retries)
        throw err instanceof Transient
          ? new CliError(`${file.path}: download failed after ${attempt} tries: ${err.message}`)
          : err;
      opts.onRetry?.(err.message, attempt);
      await sleep(attempt * (opts.backoffMs ?? 500));
    }
  }
}

/** What the tries of one file share. */
interface TryState {
  /** If-Range validators by origin */
  validators: Map<string, string>;
  /** the byte of the first `.part` continued; null once the bytes were written from 0 */
  resumedFrom: number | null;
}

/** One try: leaves a verified, complete `.part`, or throws (Transient: worth another try). */
async function attemptDownload(
  api: ApiClient,
  url: URL,
  file: ArtifactFile,
  part: string,
  state: TryState,
  opts: DownloadOptions,
): Promise<void> {
  const listed = { sha256: file.sha256, sizeBytes: file.sizeBytes };
  const plan = planPart(regularOrNull(await lstatOrNull(part), part, file.path)?.size ?? null, file.sizeBytes);
  if (plan.action === "verify") {
    // every byte is there already (a try that broke before the rename): check it, else start over
    if (
      sha256Problem(
        file.path,
        { sha256: (await hashFile(part)).digest("hex"), bytes: file.sizeBytes },
        listed,
        null,
      ) === null
    ) {
      opts.onProgress?.(file.sizeBytes, file.sizeBytes);
      state.resumedFrom ??= file.sizeBytes;
      return;
    }
    await rm(part, { force: true });
  } else if (plan.action === "fresh" && plan.discard) await rm(part, { force: true });
  const from = plan.action === "resume" ? plan.from : 0;
  // the prefix is hashed before asking: the answer's body is then read as soon as it comes
  const prefix = from > 0 ? await hashFile(part) : null;
  const { res, apiSha256, fromStore, origin } = await request(api, url, from, state.validators);
  const answer = planAnswer(res.status, from, res.headers.get("content-range"), fromStore);
  if (answer.kind !== "write") {
    const text = await res.text().catch(() => "");
    if (answer.kind === "restart") await rm(part, { force: true });
    if (answer.kind !== "fail") throw new Transient(answer.why);
    if (!fromStore) throw prefixed(file.path, toApiError(res.status, text));
    throw new CliError(`${file.path}: the store answered: ${answer.why}`);
  }
  const etag = res.headers.get("etag");
  if (etag) state.validators.set(origin, etag);
  state.resumedFrom = answer.append ? (state.resumedFrom ?? from) : null;
  const hash = answer.append && prefix ? prefix : createHash("sha256");
  let bytes = answer.append ? from : 0;
  opts.onProgress?.(bytes, file.sizeBytes);
  const meter = new Transform({
    transform(chunk: Buffer, _enc, next) {
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.(bytes, file.sizeBytes);
      next(null, chunk);
    },
  });
  try {
    // an empty file may come without a body
    const body = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(body, meter, createWriteStream(part, { flags: answer.append ? "a" : "w" }));
  } catch (err) {
    throw new Transient(`the transfer broke at byte ${bytes}: ${causeOf(err)}`);
  }
  if (bytes < file.sizeBytes) throw new Transient(`the transfer ended at byte ${bytes} of ${file.sizeBytes}`);
  const problem = sha256Problem(file.path, { sha256: hash.digest("hex"), bytes }, listed, apiSha256);
  if (problem) {
    await rm(part, { force: true });
    throw new CliError(`${problem}; ${part} deleted`);
  }
}

interface Answer {
  res: Response;
  /** the API's X-Content-SHA256 (on its 200/206, or on its 302) */
  apiSha256: string | null;
  /** the answer came from the host the API redirected to */
  fromStore: boolean;
  origin: string;
}

/** GET from the API with the key; a redirect is followed here with the range headers only, never the key. */
async function request(api: ApiClient, url: URL, from: number, validators: Map<string, string>): Promise<Answer> {
  let target = url;
  let res = await get(target, { ...api.authHeaders, ...rangeHeaders(from, validators.get(target.origin)) });
  const apiSha256 = res.headers.get("x-content-sha256");
  for (let hops = 1; REDIRECTS.has(res.status); hops++) {
    const location = res.headers.get("location");
    await res.body?.cancel().catch(() => undefined);
    if (!location || hops > MAX_REDIRECTS)
      throw new CliError(
        `${url.pathname}: ${location ? "too many redirects" : `HTTP ${res.status} without a Location`}`,
      );
    target = new URL(location, target);
    // a presigned URL carries its own authorization: the API key stays with the API
    res = await get(target, rangeHeaders(from, validators.get(target.origin)));
  }
  return { res, apiSha256, fromStore: target !== url, origin: target.origin };
}

async function get(url: URL, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers: { "accept-encoding": "identity", ...headers }, redirect: "manual" });
  } catch (err) {
    throw new Transient(`cannot reach ${url.origin}: ${causeOf(err)}`);
  }
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  return e.cause instanceof Error ? e.cause.message : String(e.cause ?? e.message ?? err);
}

function prefixed(rel: string, err: CliError): CliError {
  err.message = `${rel}: ${err.message}`;
  return err;
}
