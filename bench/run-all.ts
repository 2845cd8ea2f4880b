/**
 * `npm run bench`  (BENCH_QUICK=1 npm run bench: a smoke run of a few seconds per benchmark)
 * Runs the six benchmarks in order, each in its own process, prints one table and, on a full run
 * (or with BENCH_WRITE=1), writes it into BENCHMARKS.md between the results markers.
 */
import { spawnSync, execSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { QUICK, table, type Row } from "./support";

const BENCHES = ["submission", "pipeline", "monitor", "failure", "cost", "quota"];
const root = path.resolve(__dirname, "..");
const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-bench-results-"));
const results = path.join(dir, "results.jsonl");
writeFileSync(results, "");
const started = Date.now();
const failed: string[] = [];
for (const name of BENCHES) {
  process.stdout.write(`\n== ${name} ==\n`);
  const t = Date.now();
  const r = spawnSync(
    path.join(root, "node_modules/.bin/tsx"),
    ["--conditions=development", path.join(root, "bench", `${name}.ts`)],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, BENCH_RESULTS: results },
    },
  );
  process.stdout.write(`(${name}: ${((Date.now() - t) / 1000).toFixed(1)} s, exit ${r.status})\n`);
  if (r.status !== 0) failed.push(name);
}
const totalS = (Date.now() - started) / 1000;

const lines = readFileSync(results, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Row & { note?: string });
const rows = lines.filter((l) => l.metric !== undefined);
const notes = lines.filter((l) => l.note !== undefined);
const cells = rows.map((r) => [
  r.bench,
  r.metric,
  r.value,
  r.target ?? "",
  r.met === undefined ? "" : r.met ? "met" : "NOT MET",
]);
process.stdout.write(
  `\n== all (${totalS.toFixed(0)} s${QUICK ? ", BENCH_QUICK=1" : ""}) ==\n${table(["bench", "metric", "value", "target", "met"], cells)}`,
);
if (failed.length) process.stdout.write(`FAILED: ${failed.join(", ")}\n`);

const sh = (cmd: string) => {
  try {
    return execSync(cmd, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};
if (!QUICK || process.env.BENCH_WRITE === "1") {
  const cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim();
  const mem = sh("free -h | awk '/^Mem:/ {print $2}'");
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const md = [
    START,
    `Run: ${new Date().toISOString()}, ${QUICK ? "**BENCH_QUICK=1 (smoke run, shortened: not a measurement)**" : "full run"}, total ${totalS.toFixed(0)} s${failed.length ? `, **failed: ${failed.join(", ")}**` : ""}.`,
    `Machine: ${sh("nproc")} cores (${cpu}), ${mem} RAM, Node ${process.version}, ${sh("uname -sr")}.`,
    "",
    "| bench | metric | value | target | met |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${esc(r.bench)} | ${esc(r.metric)} | ${esc(r.value)} | ${esc(r.target ?? "")} | ${r.met === undefined ? "" : r.met ? "met" : "**NOT MET**"} |`,
    ),
    "",
    "Notes from the run:",
    "",
    ...notes.map((n) => `- ${n.bench}: ${n.note}`),
    END,
  ].join("\n");
  const file = path.join(root, "BENCHMARKS.md");
  const old = existsSync(file) ? readFileSync(file, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const i = old.indexOf(START);
  const j = old.indexOf(END);
  writeFileSync(file, i >= 0 && j > i ? old.slice(0, i) + md + old.slice(j + END.length) : `${old}\n${md}\n`);
  process.stdout.write(`wrote ${file}\n`);
}
rmSync(dir, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
