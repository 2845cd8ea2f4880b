/** Small HTTP helpers for the sim's tests: real requests, no mocks. */
import { createSimServer, type SimServer } from "../src/server";
import type { SimConfig } from "../src/config";

export const KEY = "sim-test-key";

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = KEY,
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** openapi-v2.json's Pod, as far as the tests read it */
export interface ApiPod {
  id: string;
  name: string;
  status: string;
  actions: string[];
  cost: number;
  gpu: { id: string; count: number };
  runtime: { uptime: number; ports: unknown[] } | null;
  startedAt: string | null;
  [key: string]: unknown;
}

export interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: string[];
}

export interface AdminPod {
  id: string;
  status: string;
  desiredStatus: string;
  containerState: string;
  restarts: number;
  lastExitCode: number | null;
  accruedCostMicros: number;
  billedSeconds: number;
  pid: number | null;
  workDir: string;
  terminatedAt: string | null;
  command: string[];
  hasPodApiKey: boolean;
}

export const IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404";

/** A CreatePodRequest; `gpuId`/`count` shorthand for the nested gpu object. */
export function podBody(
  overrides: Record<string, unknown> = {},
  gpuId = "NVIDIA GeForce RTX 4090",
  count = 1,
): Record<string, unknown> {
  return { name: "sim-test", image: IMAGE, gpu: { id: gpuId, count }, cloud: "SECURE", ...overrides };
}

export async function startSim(config: Partial<SimConfig> = {}): Promise<SimServer & { api: string }> {
  const sim = await createSimServer({
    port: 0,
    apiKey: KEY,
    bootDelayMs: 0,
    restartDelayMs: 50,
    killGraceMs: 1000,
    seed: 1,
    ...config,
  });
  return { ...sim, api: `${sim.url}/v2` };
}

export async function adminPod(sim: { url: string }, id: string): Promise<AdminPod> {
  const answer = await call<AdminPod>(sim.url, "GET", `/admin/pods/${id}`, undefined, null);
  if (answer.status !== 200) throw new Error(`admin pod ${id}: ${answer.status} ${answer.text}`);
  return answer.body;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
