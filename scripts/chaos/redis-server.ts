import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../test/support/free-port";
import { Redis } from "ioredis";

export interface OwnRedis {
  url: string;
  /** times the server was restarted */
  restarts: number;
  /** SHUTDOWN (the AOF is flushed), then a new server on the same port and folder */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function waitForPing(url: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      if (Date.now() > end) throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms`);
    } finally {
      probe.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A redis-server of the chaos run's own: its own port and folder, appendonly on (fsync every write),
 * noeviction as production wants. Restarting it keeps the data, as a real Redis restart would.
 */
export async function startOwnRedis(dir: string): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--save",
    "",
    "--maxmemory-policy",
    "noeviction",
    "--logfile",
    "redis.log",
  ];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    await waitForPing(url);
  };
  const exited = (c: ChildProcess) =>
    new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  const shutdown = async () => {
    const c = child;
    c.kill("SIGTERM"); // redis-server's SIGTERM is a SHUTDOWN: the AOF is flushed first
    await exited(c);
  };
  await launch();
  const own: OwnRedis = {
    url,
    restarts: 0,
    async restart(downMs) {
      await shutdown();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
      own.restarts += 1;
    },
    stop: shutdown,
  };
  return own;
}
