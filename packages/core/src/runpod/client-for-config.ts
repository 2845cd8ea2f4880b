import type { Redis } from "ioredis";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";
import type { CallPriority, RunPodCallInfo } from "./http";
import { RedisRateBudget } from "./rate-budget";
import type { SkippedPod } from "./pod-list";
import { RunPodRestClient } from "./rest-client";

export interface ProcessRunPodClientOptions {
  config: Config;
  /** a fail-fast connection (the budget's acquire must not wait forever for Redis) */
  redis: Redis;
  logger?: Logger;
  onCall?: (info: RunPodCallInfo) => void;
  /** told of each pod of a listing that could not be read (a metric) */
  onPodSkipped?: (skipped: SkippedPod) => void;
  /** ms a call waited for the account's budget, by priority (a metric) */
  onRateWait?: (ms: number, priority: CallPriority) => void;
  /** e.g. a request path's reads: fewer retries and a shorter timeout than the jobs' */
  maxRetries?: number;
  timeoutMs?: number;
}

/**
 * The RunPod client of one trainpod process (API or worker): the config's target and key, and the
 * account's rate budget kept in Redis, shared by every process and replica using that key.
 */
export function runpodClientForProcess(o: ProcessRunPodClientOptions): RunPodRestClient {
  const { env } = o.config;
  const budget = new RedisRateBudget({
    redis: o.redis,
    apiKey: o.config.runpod.apiKey,
    prefix: `${env.QUEUE_PREFIX}:`,
    rules: { defaultPolicy: [{ name: "minute", q: env.RUNPOD_RATE_LIMIT_PER_MINUTE, w: 60 }] },
    onWait: o.onRateWait,
  });
  return new RunPodRestClient({
    baseUrl: o.config.runpod.apiUrl,
    apiKey: o.config.runpod.apiKey,
    timeoutMs: o.timeoutMs ?? env.RUNPOD_TIMEOUT_MS,
    maxRetries: o.maxRetries ?? env.RUNPOD_MAX_RETRIES,
    budget,
    logger: o.logger,
    onCall: o.onCall,
    onPodSkipped: o.onPodSkipped,
  });
}
