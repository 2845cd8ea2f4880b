/**
 * `npm run demo` (with `npm start` running): creates a demo user and dataset, submits one run that
 * succeeds and one that fails, follows both live, and prints each one's outcome, setup time,
 * runtime and cost — and what the failed run would have cost with the old start script
 * (one hour of keep-alive after every run) at the same price.
 */
import { createPrismaClient, createUserWithKey, loadConfigOrExit, costForSeconds, microsToUsd } from "@trainpod/core";

interface View {
  id: string;
  status: string;
  failureReason: string | null;
  exitCode: number | null;
  costUsd: string | null;
  runtimeSeconds: number | null;
  pod: { costPerHrUsd: string | null };
  progress: { step: number | null; totalSteps: number | null; loss: string | null };
  timestamps: { createdAt: string; runningAt: string | null; podTerminatedAt: string | null };
}

const config = loadConfigOrExit();
const base = `http://${config.env.API_HOST}:${config.env.API_PORT}`;

async function call<T>(
  key: string,
  method: string,
  path: string,
  body?: string,
  type = "application/json",
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": type },
    body,
  });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.message ?? ""}`);
  return json;
}

function line(label: string, d: View): string {
  const setup = d.timestamps.runningAt
    ? ((Date.parse(d.timestamps.runningAt) - Date.parse(d.timestamps.createdAt)) / 1000).toFixed(1)
    : "-";
  const p =
    d.progress.step !== null
      ? `step ${d.progress.step}/${d.progress.totalSteps ?? "?"} loss ${d.progress.loss ?? "-"}`
      : "";
  const why = d.failureReason ? ` ${d.failureReason}${d.exitCode !== null ? ` (exit ${d.exitCode})` : ""}` : "";
  return `${label.padEnd(8)} ${d.status.padEnd(12)}${why.padEnd(26)} setup ${setup}s  runtime ${d.runtimeSeconds ?? "-"}s  cost $${d.costUsd ?? "-"}  ${p}`;
}

async function main(): Promise<void> {
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const { key } = await createUserWithKey(prisma, { email: `demo-${Date.now()}@trainpod.local`, role: "USER" });
  await prisma.$disconnect();
  const rows = Array.from({ length: 50 }, (_, i) =>
    JSON.stringify({ prompt: `What is ${i}+${i}?`, completion: String(i + i) }),
  ).join("\n");
  const ds = await call<{ id: string }>(key, "POST", "/v1/datasets?name=demo", rows, "application/x-ndjson");
  const submit = (hp: Record<string, unknown>) =>
    call<View>(
      key,
      "POST",
      "/v1/deployments",
      JSON.stringify({
        datasetId: ds.id,
        baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        gpuTypeIds: ["NVIDIA A100-SXM4-80GB"],
        hyperparameters: hp,
      }),
    );
  const runs = {
    success: await submit({ steps: 20, sim_step_ms: 200 }),
    failing: await submit({ steps: 20, sim_step_ms: 200, sim_fail_at_step: 8, sim_exit_code: 1 }),
  };
  const done = new Map<string, View>();
  const tty = process.stdout.isTTY === true;
  let last = "";
  while (done.size < 2) {
    await new Promise((r) => setTimeout(r, 1000));
    const out: string[] = [];
    for (const [label, run] of Object.entries(runs)) {
      const d = done.get(label) ?? (await call<View>(key, "GET", `/v1/deployments/${run.id}`));
      if (d.timestamps.podTerminatedAt) done.set(label, d);
      out.push(line(label, d));
    }
    if (tty) process.stdout.write(`\x1b[2K${out.join("\n\x1b[2K")}\n\x1b[${out.length}A`);
    else if (out.join() !== last) process.stdout.write(`${out.join("\n")}\n`);
    last = out.join();
  }
  process.stdout.write(tty ? "\n\n" : "\n");
  const succeeded = done.get("success");
  // the run belongs to the demo user: the command carries their key (a local demo user, made just now)
  if (succeeded?.status === "SUCCEEDED")
    process.stdout.write(
      `fetch the model of the successful run:\n  TRAINPOD_API_URL=${base} TRAINPOD_API_KEY=${key} npx trainpod pull ${succeeded.id}\n`,
    );
  const failed = done.get("failing");
  if (failed?.pod.costPerHrUsd && failed.runtimeSeconds !== null) {
    const perHr = BigInt(failed.pod.costPerHrUsd.replace(".", ""));
    const old = costForSeconds(perHr, failed.runtimeSeconds + 3600);
    const ours = costForSeconds(perHr, failed.runtimeSeconds);
    process.stdout.write(
      `failed run: $${microsToUsd(ours)} with trainpod vs $${microsToUsd(old)} with one hour of keep-alive (${(Number(old) / Number(ours)).toFixed(0)}x)\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
