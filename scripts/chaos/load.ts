/** The client side of a chaos run: submissions (retried through API errors with an Idempotency-Key) and a few cancels. */
import type { ChaosSystem } from "./system";

export type Rng = () => number;

/**
 * The chaos run's own seedable PRNG (mulberry32) in [0, 1): which deployments fail, are cancelled or vanish. The
 * simulator draws its faults from its own (SIM_SEED); the two need not agree, so neither imports the other's.
 */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Submitted {
  ids: string[];
  /** submissions answered 5xx / not at all at least once (retried with the same Idempotency-Key) */
  retries: number;
  cancels: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a deployment was meant to do: `healthy` ones must end SUCCEEDED whatever the faults and kills. */
export type Kind = "healthy" | "fails" | "cancelled" | "long";

/** Which kind of training deployment i is: most succeed, about a third fail at a step, some are cancelled, a few run long (their pods are deleted behind our back). */
export function trainingFor(
  i: number,
  longOnes: number,
): { hyperparameters: Record<string, unknown>; cancel: boolean; kind: Kind } {
  if (i < longOnes) return { hyperparameters: { steps: 150, sim_step_ms: 100 }, cancel: false, kind: "long" };
  if (i % 3 === 1)
    return { hyperparameters: { steps: 6, sim_step_ms: 50, sim_fail_at_step: 3 }, cancel: false, kind: "fails" };
  const cancel = i % 17 === 5;
  return { hyperparameters: { steps: 4, sim_step_ms: 50 }, cancel, kind: cancel ? "cancelled" : "healthy" };
}

async function call(
  sys: ChaosSystem,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  try {
    const res = await fetch(`${sys.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${sys.user.key}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  } catch {
    return { status: 0, json: {} };
  }
}

/**
 * Submits `n` deployments with `concurrency` clients, never more than `window` unfinished at once
 * (every simulated pod is real processes). Returns the ids the API accepted.
 */
export async function submitAll(
  sys: ChaosSystem,
  opts: {
    phase: string;
    n: number;
    concurrency: number;
    window: number;
    longOnes: number;
    unfinished: () => number;
    rng: Rng;
    sink: string[];
    longSink?: string[];
    kinds?: Map<string, Kind>;
  },
): Promise<Submitted> {
  const out: Submitted = { ids: opts.sink, retries: 0, cancels: 0 };
  let next = 0;
  const gpuTypeIds = ["NVIDIA GeForce RTX 4090", "NVIDIA A40"];
  const one = async (i: number) => {
    const t = trainingFor(i, opts.longOnes);
    const body = {
      datasetId: sys.user.datasetId,
      baseModel: "tiny-llama",
      gpuTypeIds,
      hyperparameters: t.hyperparameters,
      maxRuntimeMinutes: 30,
      maxCostUsd: "5",
    };
    for (let attempt = 0; ; attempt += 1) {
      const res = await call(sys, "POST", "/v1/deployments", body, { "idempotency-key": `${opts.phase}-${i}` });
      if (res.status === 202 || res.status === 200) {
        const id = res.json.id as string;
        out.ids.push(id);
        opts.kinds?.set(id, t.kind);
        if (i < opts.longOnes) opts.longSink?.push(id);
        if (t.cancel) void sleep(500 + opts.rng() * 3000).then(() => cancel(sys, id, out));
        return;
      }
      if (res.status !== 0 && res.status < 500)
        throw new Error(`submit ${i}: ${res.status} ${JSON.stringify(res.json)}`);
      if (attempt > 600) throw new Error(`submit ${i}: API unavailable for too long`);
      out.retries += 1;
      await sleep(100);
    }
  };
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.n) {
        if (opts.unfinished() >= opts.window) {
          await sleep(100);
          continue;
        }
        const i = next;
        next += 1;
        await one(i);
      }
    }),
  );
  return out;
}

async function cancel(sys: ChaosSystem, id: string, out: Submitted): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const res = await call(sys, "POST", `/v1/deployments/${id}/cancel`);
    if (res.status === 202 || res.status === 200) {
      out.cancels += 1;
      return;
    }
    if (res.status === 409) return; // closed before the cancel: nothing to do
    await sleep(200);
  }
}
