import type { z } from "zod";
import type { Logger } from "../logging/logger";
import type {
  GpuCatalogQuery,
  ListPodsFilter,
  PodBillingQuery,
  PodLogQuery,
  RecentLogsOptions,
  RunPodClient,
  TerminateResult,
} from "./client";
import { BadRequestError, BadResponseError, NotFoundError } from "./errors";
import {
  RunPodHttp,
  unlimitedBudget,
  type CallBudget,
  type HttpAnswer,
  type HttpRequest,
  type RunPodCallInfo,
} from "./http";
import { collectUntilIdle, sseLogLines } from "./pod-logs";
import { readAllPods, type PodListHooks, type SkippedPod } from "./pod-list";
import { defaultSleep } from "./backoff";
import { RunPodNetworkVolumes, type NetworkVolumeClient } from "./network-volumes";
import {
  CreatePodRequestSchema,
  GpuTypeListSchema,
  PodBillingListSchema,
  PodListSchema,
  PodSchema,
  type CreatePodRequest,
  type GpuType,
  type Pod,
  type PodBillingRecord,
  type PodLogLine,
} from "./schemas";

export interface RunPodRestClientOptions {
  /** RUNPOD_API_URL: `https://api.runpod.io/v2`, or the simulator's `http://127.0.0.1:PORT/v2` */
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
  /**
   * The account's rate budget (RedisRateBudget: one budget for every process using the key).
   * Default: none, calls go out at once and a 429 is waited out from Retry-After.
   */
  budget?: CallBudget;
  /**
   * Retry POST /pods after an ambiguous failure: a timeout, a dropped connection or a 5xx.
   * Default false. RunPod may have created the pod before the answer was lost, so a blind retry
   * can start a second pod that bills with no owner. The deploy job instead gets
   * RunPodUnavailableError (retryable), and on its next attempt first adopts a pod with the
   * deployment's unique name (listPods) before creating. 429 answers are always retried:
   * RunPod refused the call before doing anything.
   */
  retryCreateOnNetworkError?: boolean;
  logger?: Logger;
  onCall?: (info: RunPodCallInfo) => void;
  /** told of each pod of a listing that could not be read and was skipped (a metric; it is logged too) */
  onPodSkipped?: (skipped: SkippedPod) => void;
  /** for tests: the fetch to use (default global fetch), sleep, random [0,1) and wall clock */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  nowMs?: () => number;
}

const POD = "/pods/{id}";

/** The RunPod REST API v2 client. Build one per process; its budget may be shared across processes. */
export class RunPodRestClient implements RunPodClient {
  private readonly http: RunPodHttp;
  private readonly retryCreate: boolean;
  private readonly listing: PodListHooks;

  constructor(options: RunPodRestClientOptions) {
    const sleep = options.sleep ?? defaultSleep;
    this.retryCreate = options.retryCreateOnNetworkError ?? false;
    this.listing = { logger: options.logger, onPodSkipped: options.onPodSkipped };
    this.http = new RunPodHttp({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 4,
      baseDelayMs: options.baseDelayMs ?? 200,
      maxDelayMs: options.maxDelayMs ?? 5_000,
      budget: options.budget ?? unlimitedBudget,
      logger: options.logger,
      onCall: options.onCall,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      sleep,
      random: options.random ?? Math.random,
      nowMs: options.nowMs ?? Date.now,
    });
  }

  /** the network volume calls (network-volumes.ts), on this client's HTTP layer and rate budget */
  networkVolumes(): NetworkVolumeClient {
    return new RunPodNetworkVolumes(this.http);
  }

  async createPod(input: CreatePodRequest): Promise<Pod> {
    const checked = CreatePodRequestSchema.safeParse(input);
    if (!checked.success) {
      throw new BadRequestError(`pod create input is invalid: ${describeIssues(checked.error)}`, {
        details: { endpoint: "/pods", issues: issueList(checked.error) },
      });
    }
    const req: HttpRequest = {
      method: "POST",
      endpoint: "/pods",
      path: "/pods",
      body: checked.data,
      retryAmbiguous: this.retryCreate,
    };
    return parseBody(await this.http.send(req), PodSchema, req);
  }

  async getPod(podId: string): Promise<Pod | null> {
    const req: HttpRequest = {
      method: "GET",
      endpoint: POD,
      path: podPath(podId),
      retryAmbiguous: true,
      priority: "high",
    };
    try {
      return parseBody(await this.http.send(req), PodSchema, req);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }

  /** Every page (a `nextCursor` is followed), each pod read on its own: one that cannot be read is skipped (pod-list.ts). */
  async listPods(filter: ListPodsFilter = {}): Promise<Pod[]> {
    const pods = await readAllPods(async (cursor) => {
      const req: HttpRequest = {
        method: "GET",
        endpoint: "/pods",
        path: "/pods",
        ...(cursor === undefined ? {} : { query: new URLSearchParams({ cursor }) }),
        retryAmbiguous: true,
        priority: "high",
      };
      return parseBody(await this.http.send(req), PodListSchema, req);
    }, this.listing);
    const { name, namePrefix } = filter;
    return pods.filter(
      (pod) =>
        (name === undefined || pod.name === name) && (namePrefix === undefined || pod.name.startsWith(namePrefix)),
    );
  }

  async stopPod(podId: string): Promise<void> {
    await this.http.send({
      method: "POST",
      endpoint: `${POD}/action`,
      path: `${podPath(podId)}/action`,
      body: { action: "stop" },
      retryAmbiguous: true,
    });
  }

  /** DELETE is idempotent, so it is retried like a read; a retry whose first attempt did land meets a 404: done. */
  async terminatePod(podId: string): Promise<TerminateResult> {
    try {
      await this.http.send({
        method: "DELETE",
        endpoint: POD,
        path: podPath(podId),
        retryAmbiguous: true,
        priority: "urgent",
      });
      return { alreadyGone: false };
    } catch (err) {
      if (err instanceof NotFoundError) return { alreadyGone: true };
      throw err;
    }
  }

  async listGpuTypes(query: GpuCatalogQuery = {}): Promise<GpuType[]> {
    const params = new URLSearchParams({ include: "AVAILABILITY", product: "POD" });
    if (query.cloud !== undefined) params.set("cloud", query.cloud);
    if (query.count !== undefined) params.set("count", String(query.count));
    const req: HttpRequest = {
      method: "GET",
      endpoint: "/catalog/gpus",
      path: "/catalog/gpus",
      query: params,
      retryAmbiguous: true,
    };
    return parseBody(await this.http.send(req), GpuTypeListSchema, req).gpus;
  }

  async *podLogs(podId: string, query: PodLogQuery): AsyncGenerator<PodLogLine> {
    const params = new URLSearchParams();
    if (query.source !== undefined) params.set("source", query.source);
    if (query.tail !== undefined) params.set("tail", String(query.tail));
    const headers = query.lastEventId !== undefined ? { "Last-Event-ID": query.lastEventId } : undefined;
    const req: HttpRequest = {
      method: "GET",
      endpoint: `${POD}/logs`,
      path: `${podPath(podId)}/logs`,
      query: params,
      retryAmbiguous: true,
      accept: "text/event-stream",
      headers,
    };
    const { body } = await this.http.open(req, query.signal);
    if (body === null) return;
    yield* sseLogLines(body);
  }

  async recentPodLogs(podId: string, options: RecentLogsOptions = {}): Promise<PodLogLine[]> {
    const tail = options.tail ?? 50;
    const limits = { idleMs: options.idleMs ?? 300, maxMs: options.maxMs ?? 3_000 };
    const read = async (source: "system" | "container"): Promise<PodLogLine[]> => {
      try {
        return await collectUntilIdle((signal) => this.podLogs(podId, { source, tail, signal }), limits);
      } catch (err) {
        if (err instanceof NotFoundError) return [];
        throw err;
      }
    };
    const [system, container] = await Promise.all([read("system"), read("container")]);
    return [...system.slice(-tail), ...container.slice(-tail)];
  }

  async podBilling(query: PodBillingQuery): Promise<PodBillingRecord[]> {
    const params = new URLSearchParams({
      podId: query.podId,
      bucketSize: query.bucketSize ?? "hour",
      startTime: query.startTime.toISOString(),
      endTime: query.endTime.toISOString(),
    });
    const req: HttpRequest = {
      method: "GET",
      endpoint: "/billing/pods",
      path: "/billing/pods",
      query: params,
      retryAmbiguous: true,
    };
    return parseBody(await this.http.send(req), PodBillingListSchema, req).records.filter(
      (r) => r.podId === query.podId,
    );
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
