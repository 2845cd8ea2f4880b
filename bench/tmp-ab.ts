// temporary A/B harness (not committed): API CPU per accepted request at low concurrency
import { execFile } from "node:child_process";
import { deploymentBody, main, processCpuMs, startBenchSystem } from "./support";
main(async () => {
  const sys = await startBenchSystem({ worker: false });
  try {
    const body = deploymentBody(sys, { steps: 1 });
    const run = (sec: string) => new Promise<number>((resolve, reject) => execFile(process.execPath, [require.resolve("autocannon/autocannon.js"), "-c", process.env.AB_C ?? "8", "-d", sec, "-m", "POST", "-b", body, "-H", `authorization=Bearer ${sys.user.key}`, "-H", "content-type=application/json", "-j", `${sys.apiUrl}/v1/deployments`], { maxBuffer: 1 << 26 }, (e, out) => e ? reject(e) : resolve((JSON.parse(out) as { "2xx": number })["2xx"])));
    await run("3");
    const xs: number[] = [];
    for (let i = 0; i < 3; i++) { const c0 = processCpuMs(); const n = await run("5"); xs.push((processCpuMs() - c0) / n * 1000); }
    xs.sort((a, b) => a - b);
    console.log(`API CPU per request (µs), 3 runs: ${xs.map((x) => x.toFixed(0)).join(", ")}; median ${xs[1]?.toFixed(0)}`);
  } finally { await sys.stop(); }
});
