import { Redis, type RedisOptions } from "ioredis";

export type { Redis };

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (blocking commands);
 * producers in a request path want to fail fast instead, so the API passes `failFast`.
 */
export function createRedis(url: string, options: { failFast?: boolean; name?: string } = {}): Redis {
  const base: RedisOptions = { connectionName: options.name, lazyConnect: false };
  const opts: RedisOptions = options.failFast
    ? { ...base, maxRetriesPerRequest: 1, connectTimeout: 2_000 }
    : { ...base, maxRetriesPerRequest: null };
  return new Redis(url, opts);
}
