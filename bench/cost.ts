/**
 * `npx tsx --conditions=development bench/cost.ts [terminationMs]`
 * The cost of a failed run (60 s boot, failure after 30 s of training, $1.89/h) with trainpod
 * (terminated at once: the measured failed→DELETE p99 from bench/failure.ts, read from
 * $BENCH_RESULTS, else the argument, else the 2 s target) against the old start script's hour
 * of keep-alive after the run and against a pod left running until a human notices (8 h).
 * Billing as RunPod's (and the sim's): every started second, from create to DELETE.
 */
import { existsSync, readFileSync } from "node:fs";
import { costForSeconds, microsToUsd } from "@trainpod/core";
import { main, report } from "./support";

const PER_HR_MICROS = 1_890_000n; // $1.89/h
const BOOT_S = 60;
const TRAIN_S = 30;

function measuredTerminationMs(): { ms: number; from: string } {
  const file = process.env.BENCH_RESULTS;
  if (file && existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n").reverse()) {
      if (!line.includes("terminationP99Ms")) continue;
      const v = (JSON.parse(line) as { terminationP99Ms: number }).terminationP99Ms;
      if (Number.isFinite(v)) return { ms: v, from: "measured p99 failed→DELETE (bench 4, this run)" };
    }
  }
  if (process.argv[2]) return { ms: Number(process.argv[2]), from: "given on the command line" };
  return { ms: 2000, from: "the 2 s target (no measurement available)" };
}

main(async () => {
  const term = measuredTerminationMs();
  const run = BOOT_S + TRAIN_S;
  const trainpod = costForSeconds(PER_HR_MICROS, run + term.ms / 1000);
  const keepAlive = costForSeconds(PER_HR_MICROS, run + 3600);
  const human = costForSeconds(PER_HR_MICROS, run + 8 * 3600);
  const usd = (m: bigint) => `$${microsToUsd(m)}`;
  const ratio = (m: bigint) => `${(Number(m) / Number(trainpod)).toFixed(1)}x`;
  report(
    [
      {
        bench: "5 cost",
        metric: `failed run, trainpod (${run} s + ${(term.ms / 1000).toFixed(2)} s to DELETE)`,
        value: usd(trainpod),
      },
      {
        bench: "5 cost",
        metric: "failed run, old script (+1 h keep-alive)",
        value: `${usd(keepAlive)} (${ratio(keepAlive)})`,
      },
      {
        bench: "5 cost",
        metric: "failed run, left until a human notices (+8 h)",
        value: `${usd(human)} (${ratio(human)})`,
      },
      {
        bench: "5 cost",
        metric: "saved per failed run vs keep-alive / vs 8 h",
        value: `${usd(keepAlive - trainpod)} / ${usd(human - trainpod)}`,
      },
    ],
    [`$1.89/h, every started second billed (core costForSeconds); termination latency: ${term.from}`],
  );
});
