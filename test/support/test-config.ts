import { Writable } from "node:stream";
import winston from "winston";
import { createLogger, loadConfig, type Config, type Logger } from "@trainpod/core";
import { TEST_REDIS_URL } from "./test-redis";

/** A Config for a test file: its database, its queue prefix, everything else at defaults unless overridden. */
export function testConfig(opts: { databaseUrl: string; queuePrefix: string; env?: Record<string, string> }): Config {
  return loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "debug",
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: opts.queuePrefix,
    // rate limits have their own test (apps/api/src/http/security.int.test.ts); other suites send many requests
    RATE_LIMIT_PER_MINUTE: "0",
    RATE_LIMIT_RUN_PER_MINUTE: "0",
    // spend control off unless a test turns it on (test/e2e/spend-control.test.ts): no budget, no slot limits
    USER_MONTHLY_BUDGET_USD: "0",
    USER_MAX_LIVE_DEPLOYMENTS: "0",
    USER_MAX_GPUS: "0",
    ALLOWED_IMAGES: "**",
    // the worker's metrics server binds a fixed port: off, test files run side by side
    WORKER_METRICS_PORT: "0",
    ...opts.env,
  });
}

/** A JSON logger whose every line is kept in memory, so a test can read (and grep) what was logged. */
export function captureLogger(service = "test"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({
    service,
    level: "silly",
    format: "json",
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}
