/** Runs the sim from SIM_* env vars; prints one JSON line when listening; SIGTERM/SIGINT kill every pod and exit. */
import { ConfigError, loadConfig } from "./config";
import { createSimServer } from "./server";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const sim = await createSimServer(config);
  process.stdout.write(`${JSON.stringify({ msg: "runpod-sim listening", url: sim.url })}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`runpod-sim: ${signal}: terminating all pods\n`);
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`runpod-sim: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `runpod-sim: ${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
