/**
 * `npx tsx --conditions=development bench/sse-streams.ts` (SSE_STREAMS, default 200)
 * Opens N timeline streams on one live deployment and measures, over 5 s of quiet streaming, the
 * Postgres transactions per second and the API process's CPU: what idle open streams cost.
 */
import { Pool } from "pg";
import { fmt, main, processCpuMs, startBenchSystem, submit } from "./support";

const N = Number(process.env.SSE_STREAMS ?? 200);

main(async () => {
  const sys = await startBenchSystem({
    worker: false,
    env: { SSE_MAX_STREAMS_PER_USER: String(N), SSE_MAX_STREAMS: String(N) },
  });
  const pool = new Pool({ connectionString: sys.db.url, max: 1 });
  const controllers: AbortController[] = [];
  try {
    const id = await submit(sys, { steps: 1 }); // stays QUEUED: no worker runs
    for (let i = 0; i < N; i++) {
      const ctl = new AbortController();
      const res = await fetch(`${sys.apiUrl}/v1/deployments/${id}/events/stream`, {
        headers: { authorization: `Bearer ${sys.user.key}` },
        signal: ctl.signal,
      });
      if (res.status !== 200) throw new Error(`stream ${i}: ${res.status}`);
      void res.body?.pipeTo(new WritableStream()).catch(() => undefined);
      controllers.push(ctl);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const xacts = async () =>
      Number(
        (
          await pool.query<{ n: string }>(
            "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
          )
        ).rows[0]?.n,
      );
    const x0 = await xacts();
    const cpu0 = processCpuMs();
    await new Promise((r) => setTimeout(r, 5000));
    const cpu = processCpuMs() - cpu0;
    await new Promise((r) => setTimeout(r, 1200)); // pg_stat_database is flushed within ~1 s
    const x = (await xacts()) - x0;
    console.log(`${N} open streams, 5 s: Postgres ${fmt(x / 5)} transactions/s, API process CPU ${fmt(cpu / 5)} ms/s`);
  } finally {
    controllers.forEach((c) => c.abort());
    await pool.end();
    await sys.stop();
  }
});
