import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { closeQueues, createQueues, createRedis, type Queues } from "@trainpod/core";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A queue prefix of this test file's own (a hash tag, like production's {trainpod}). */
export function testQueuePrefix(): string {
  return `{tp-test-${randomBytes(5).toString("hex")}}`;
}

/** Deletes every key under the prefix (SCAN, never KEYS). */
export async function deletePrefix(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export interface TestQueues {
  prefix: string;
  redis: Redis;
  queues: Queues;
  /** closes the queues and the connection, then deletes every key under the prefix */
  close(): Promise<void>;
}

/** The job queues on a prefix of this test file's own (default: a new one). */
export function openTestQueues(prefix = testQueuePrefix()): TestQueues {
  const redis = createRedis(TEST_REDIS_URL);
  const queues = createQueues(redis, prefix);
  return {
    prefix,
    redis,
    queues,
    async close() {
      await closeQueues(queues);
      redis.disconnect();
      await deletePrefix(prefix);
    },
  };
}

/**
 * The job queues on a prefix of this test file's own, opened before its tests and closed (every key under the
 * prefix deleted) after them. Filled in by beforeAll: read its fields inside tests and hooks.
 */
export function useTestQueues(prefix = testQueuePrefix()): TestQueues {
  const handle = { prefix } as TestQueues;
  beforeAll(() => {
    Object.assign(handle, openTestQueues(prefix));
  });
  afterAll(async () => {
    await handle.close?.();
  });
  return handle;
}
