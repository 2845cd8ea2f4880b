/**
 * autocannon in its own process (as bench #1 runs it) with the connections spread over several users: connection i
 * sends user i mod n's API key and body. Used by bench/spend-control.ts.
 */
import { execFile } from "node:child_process";

export interface Cannon {
  /** 2xx answers */
  ok: number;
  non2xx: number;
  /** connection errors and timeouts */
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  /** answers by status code */
  codes?: Record<string, number>;
}

const DRIVER = `
const autocannon = require(${JSON.stringify(require.resolve("autocannon"))});
const cfg = JSON.parse(process.argv[1]);
let i = 0;
autocannon({
  url: cfg.url, connections: cfg.connections, duration: cfg.seconds, method: "POST",
  setupClient(client) {
    const u = cfg.users[i++ % cfg.users.length];
    client.setHeadersAndBody({ authorization: "Bearer " + u.key, "content-type": "application/json" }, u.body);
  },
}, (err, r) => {
  if (err) { console.error(err); process.exit(1); }
  const codes = {};
  for (const [k, v] of Object.entries(r.statusCodeStats || {})) codes[k] = v.count;
  const out = { ok: r["2xx"], non2xx: r.non2xx, errors: r.errors + r.timeouts, seconds: r.duration, codes };
  process.stdout.write(JSON.stringify({ ...out, p50: r.latency.p50, p99: r.latency.p99 }));
});`;

/** POSTs to `url` for `seconds` over `connections` connections shared out among `users` */
export function multiUserCannon(
  url: string,
  users: { key: string; body: string }[],
  connections: number,
  seconds: number,
): Promise<Cannon> {
  const cfg = JSON.stringify({ url, connections, seconds, users: users.map((u) => ({ key: u.key, body: u.body })) });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", DRIVER, cfg], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as Cannon),
    );
  });
}
