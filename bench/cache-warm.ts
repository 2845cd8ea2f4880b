/**
 * `npx tsx --conditions=development bench/cache-warm.ts [SCALE=100]`  (issue 28; not part of `npm run bench`)
 * Time to first step, cold vs warm, on a cache volume: the whole system on the simulator, one data centre's cache
 * volume, runs of an 8B model (16 GB at 200 MB/s) and a 70B one (140 GB at 200 MB/s) with the trainer's packages
 * (3 GB at 100 MB/s), each without the cache (`cache: "off"`: today), on a cold cache (it fills it) and warm.
 * Time scale: every bandwidth × SCALE, so a 140 GB download takes 7 s here instead of 700 s; the table gives what
 * was measured and the real-size figure (the install and the download × SCALE, the rest as measured: the sim's boot,
 * the agent, dataset, load, tokenize, first step).
 */
import { createUserWithKey } from "@trainpod/core";
import { fmt, main, report, startBenchSystem, until, type BenchSystem } from "./support";

const SCALE = Number(process.argv[2] ?? 100);
const GB = 1e9;
const PACKAGES = { bytes: 3 * GB, perS: 100e6 };
const MODELS = [
  { name: "org/llama-3-8b", label: "8B", bytes: 16 * GB, perS: 200e6 },
  { name: "org/llama-3-70b", label: "70B", bytes: 140 * GB, perS: 200e6 },
];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(sys: BenchSystem, key: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${sys.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Json;
}

async function run(sys: BenchSystem, model: (typeof MODELS)[number], cache: string): Promise<Json> {
  const hp = {
    steps: 1,
    sim_step_ms: 10,
    sim_packages_bytes: PACKAGES.bytes,
    sim_install_bytes_per_s: PACKAGES.perS * SCALE,
    sim_model_bytes: model.bytes,
    sim_download_bytes_per_s: model.perS * SCALE,
  };
  const body = {
    datasetId: sys.user.datasetId,
    baseModel: model.name,
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters: hp,
    maxRuntimeMinutes: 60,
    maxCostUsd: "10",
    cache,
  };
  const { id } = await call(sys, sys.user.key, "POST", "/v1/deployments", body);
  return until(
    `deployment ${id} closed`,
    async () => {
      const d = await call(sys, sys.user.key, "GET", `/v1/deployments/${id}`);
      return d.timestamps?.podTerminatedAt ? d : null;
    },
    120_000,
  );
}

main(async () => {
  const sys = await startBenchSystem({ worker: true, simEnv: { SIM_BOOT_DELAY_MS: "500" } });
  try {
    const admin = await createUserWithKey(sys.db.prisma, { email: "ops@example.com", role: "ADMIN" });
    await call(sys, admin.key, "POST", "/v1/admin/cache-volumes", { dataCenter: "EU-RO-1", sizeGb: 500 });
    const rows = [];
    for (const model of MODELS) {
      for (const [label, cache] of [
        ["no cache (today)", "off"],
        ["cache cold (fills it)", "prefer"],
        ["cache warm", "prefer"],
      ] as const) {
        const d = await run(sys, model, cache);
        if (d.status !== "SUCCEEDED") throw new Error(`${model.label} ${label}: ${d.status} ${d.failureMessage}`);
        const phase = (n: string): number => (d.phases as Json[]).find((p) => p.name === n)?.seconds ?? 0;
        const install = phase("install");
        const download = phase("model_download");
        const measured = d.timeToFirstStep.seconds as number;
        const real = measured + (install + download) * (SCALE - 1);
        rows.push({
          bench: `cache ${model.label}`,
          metric: `${label}: time to first step, real size (measured: boot ${d.timeToFirstStep.bootSeconds} s, install ${install} s, download ${download} s, total ${measured} s)`,
          value: `${fmt(real, 1)} s`,
          ...(label === "cache warm"
            ? { target: "< boot + 20 s", met: real - d.timeToFirstStep.bootSeconds < 20 }
            : {}),
        });
      }
    }
    report(rows, [
      `SCALE ${SCALE}: bandwidths × ${SCALE} (packages 3 GB at 100 MB/s, 8B 16 GB and 70B 140 GB at 200 MB/s); real = measured + (install + download) × ${SCALE - 1}`,
    ]);
  } finally {
    await sys.stop();
  }
});
