import type { z } from "zod";
import type { Logger } from "../logging/logger";
import type { ListPodsFilter, RunPodClient, TerminateResult } from "./client";
import { BadRequestError, BadResponseError, NotFoundError } from "./errors";
import { RunPodHttp, type HttpAnswer, type HttpRequest, type RunPodCallInfo } from "./http";
import { TokenBucket, defaultSleep } from "./rate-limiter";
import { PodCreateInputSchema, PodListSchema, PodSchema, type Pod, type PodCreateInput } from "./schemas";

export interface RunPodRestClientOptions {
  /** RUNPOD_API_URL: `https://rest.runpod.io/v1`, or the simulator's `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  apiKey: string;
  /** per attempt (AbortSignal.timeout); default 10000 */
  timeoutMs?: number;
  /** retries after the first attempt; default 4 */
  maxRetries?: number;
  /** default 200 */
  baseDelayMs?: number;
  /** default 5000 */
  maxDelayMs?: number;
  /** calls a second, shared by every call of this client instance; default 10 */
  rateLimitPerSecond?: number;
  /** tokens saved up for a burst; default 1 (calls evenly spaced) */
  rateLimitBurst?: number;
  /**
   * Retry POST /pods after an ambiguous failure: a timeout, a dropped connection or a 5xx.
   * Default false. RunPod may have created the pod before the answer was lost (and its REST API
   * is known to answer 500 after creating one), so a blind retry can start a second pod that
   * bills with no owner. The deploy job instead gets RunPodUnavailableError (retryable), and on
   * its next attempt first adopts a pod with the deployment's unique name (listPods) before
   * creating. Opt in only where the caller adopts or reaps duplicates by name itself.
   * 429 answers are always retried: RunPod refused the call before doing anything.
   */
  retryCreateOnNetworkError?: boolean;
  logger?: Logger;
  onCall?: (info: RunPodCallInfo) => void;
  /** for tests: the fetch to use (default global fetch), sleep, random [0,1) and wall clock */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  nowMs?: () => number;
}

const POD = "/pods/{podId}";

/** The RunPod REST v1 client. Build one per process: its rate limiter is shared by all its calls. */
export class RunPodRestClient implements RunPodClient {
  private readonly http: RunPodHttp;
  private readonly retryCreate: boolean;

  constructor(options: RunPodRestClientOptions) {
    const sleep = options.sleep ?? defaultSleep;
    const rate = options.rateLimitPerSecond ?? 10;
    this.retryCreate = options.retryCreateOnNetworkError ?? false;
    this.http = new RunPodHttp({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 4,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 5_000,
      bucket: new TokenBucket({ ratePerSecond: rate, burst: options.rateLimitBurst ?? 1, sleep }),
      logger: options.logger,
      onCall: options.onCall,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      sleep,
      random: options.random ?? Math.random,
      nowMs: options.nowMs ?? Date.now,
    });
  }

  async createPod(input: PodCreateInput): Promise<Pod> {
    const checked = PodCreateInputSchema.safeParse(input);
    if (!checked.success) {
      throw new BadRequestError(`pod create input is invalid: ${describeIssues(checked.error)}`, {
        details: { endpoint: "/pods", issues: issueList(checked.error) },
      });
    }
    const req: HttpRequest = { method: "POST", endpoint: "/pods", path: "/pods", body: checked.data, retryAmbiguous: this.retryCreate };
    return parseBody(await this.http.send(req), PodSchema, req);
  }

  async getPod(podId: string): Promise<Pod | null> {
    const req: HttpRequest = { method: "GET", endpoint: POD, path: podPath(podId), retryAmbiguous: true };
    try {
      return parseBody(await this.http.send(req), PodSchema, req);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  async listPods(filter: ListPodsFilter = {}): Promise<Pod[]> {
    const query = new URLSearchParams();
    if (filter.desiredStatus !== undefined) query.set("desiredStatus", filter.desiredStatus);
    if (filter.name !== undefined) query.set("name", filter.name);
    // REST v1 answers every matching pod in one array (no pagination), so this is one call.
    const req: HttpRequest = { method: "GET", endpoint: "/pods", path: "/pods", query, retryAmbiguous: true };
    const pods = parseBody(await this.http.send(req), PodListSchema, req);
    // RunPod's `name` filter is exact; a prefix can only be applied here, over the listing.
    const { name, namePrefix, desiredStatus } = filter;
    return pods.filter(
      (pod) =>
        (name === undefined || pod.name === name) &&
        (namePrefix === undefined || pod.name.startsWith(namePrefix)) &&
        (desiredStatus === undefined || pod.desiredStatus === desiredStatus),
    );
  }

  async stopPod(podId: string): Promise<void> {
    await this.http.send({ method: "POST", endpoint: `${POD}/stop`, path: `${podPath(podId)}/stop`, retryAmbiguous: true });
  }

  /**
   * DELETE is idempotent, so it is retried like a read; a retry whose first attempt did land
   * meets a 404, which counts as done. The spec lists 400 "Invalid Pod ID" (and no 404) for
   * DELETE, so on a 400 the pod is looked up: unknown or TERMINATED also counts as done.
   */
  async terminatePod(podId: string): Promise<TerminateResult> {
    try {
      await this.http.send({ method: "DELETE", endpoint: POD, path: podPath(podId), retryAmbiguous: true });
      return { alreadyGone: false };
    } catch (err) {
      if (err instanceof NotFoundError) return { alreadyGone: true };
      if (err instanceof BadRequestError && (await this.isGone(podId))) return { alreadyGone: true };
      throw err;
    }
  }

  private async isGone(podId: string): Promise<boolean> {
    const pod = await this.getPod(podId);
    return pod === null || pod.desiredStatus === "TERMINATED";
  }
}

function podPath(podId: string): string {
  if (podId.trim() === "") throw new BadRequestError("podId must not be empty");
  return `/pods/${encodeURIComponent(podId)}`;
}

/** JSON-parses and checks a 2xx body; a surprise becomes BadResponseError now, not a crash later. */
function parseBody<S extends z.ZodType>(answer: HttpAnswer, schema: S, req: HttpRequest): z.output<S> {
  const where = `RunPod ${req.method} ${req.endpoint} answered ${answer.status}`;
  const details = { method: req.method, endpoint: req.endpoint, status: answer.status };
  let body: unknown;
  try {
    body = JSON.parse(answer.bodyText);
  } catch {
    throw new BadResponseError(`${where} with a body that is not JSON`, { details });
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  // Issue paths and messages only: a pod's body holds its env, which carries run tokens.
  throw new BadResponseError(`${where} with an unexpected body: ${describeIssues(parsed.error)}`, {
    details: { ...details, issues: issueList(parsed.error) },
  });
}

function issueList(error: z.ZodError): string[] {
  return error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
}

function describeIssues(error: z.ZodError): string {
  const list = issueList(error);
  const more = error.issues.length - list.length;
  return list.join("; ") + (more > 0 ? `; and ${more} more` : "");
}
