import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { zipSync, type Zippable } from "fflate";

/** The pod's agent as a Python zipapp (`python agent.pyz`), served by the API to the run token. */
export interface AgentBundle {
  bytes: Buffer;
  /** hex: pinned in the pod's env (TRAINPOD_AGENT_SHA256), checked by start.sh before it runs the agent */
  sha256: string;
}

/** The zipapp's entry: `python agent.pyz` runs the package's own entry (pod-agent/trainpod_agent/__main__.py). */
export const ZIPAPP_MAIN = "import sys\n\nfrom trainpod_agent.__main__ import _entry\n\nsys.exit(_entry())\n";

/**
 * Every entry's time: 1980-01-01 00:00:00, the first a ZIP can hold. fflate writes DOS times from the Date's
 * local fields, so the Date is built from local fields too: the same bytes in every time zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * pod-agent/trainpod_agent at the repository's root (the Dockerfile copies pod-agent there too). src/pod-launch
 * and dist/pod-launch lie at the same depth, so one path serves both.
 */
export function agentPackageDir(): string {
  const dir = path.join(__dirname, "..", "..", "..", "..", "pod-agent", "trainpod_agent");
  if (isDir(dir)) return dir;
  throw new Error(`trainpod: cannot find the pod agent's package (looked in ${dir})`);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const isTestFile = (name: string) => /^test_.*\.py$|_test\.py$|^conftest\.py$/.test(name);
const skippedDir = (name: string) => name === "__pycache__" || name === "tests" || name.startsWith(".");

/** The package's modules, as zip paths ("trainpod_agent/ml/seam.py"), sorted by code unit. */
function modules(pkgDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const zipPath = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skippedDir(e.name)) walk(path.join(dir, e.name), zipPath);
      } else if (e.isFile() && e.name.endsWith(".py") && !isTestFile(e.name)) found.push(zipPath);
    }
  };
  walk(pkgDir, path.basename(pkgDir));
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Builds the zipapp from a package folder: its modules (no tests, no __pycache__) plus a top-level __main__.py.
 * Deterministic (fixed times, sorted entries, fixed compression level): the same sources give the same sha256,
 * so the worker that pins it and the API that serves it agree whichever process built it.
 */
export function buildAgentBundle(pkgDir: string = agentPackageDir()): AgentBundle {
  const root = path.dirname(pkgDir);
  const files = modules(pkgDir);
  if (!files.includes(`${path.basename(pkgDir)}/__main__.py`))
    throw new Error(`trainpod: ${pkgDir} has no __main__.py: not the agent package`);
  const entries: Zippable = { "__main__.py": [Buffer.from(ZIPAPP_MAIN, "utf8"), { mtime: FIXED_MTIME }] };
  for (const f of files) {
    const data = readFileSync(path.join(root, ...f.split("/")));
    entries[f] = [data, { mtime: FIXED_MTIME }];
  }
  const bytes = Buffer.from(zipSync(entries, { level: 6, mtime: FIXED_MTIME }));
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/**
 * The agent bundle, built once per process (like the start script: a deploy never ships a package caught
 * half-written mid-run, and the pinned sha256 and the served bytes stay the same for the process's life).
 */
export function agentBundle(): AgentBundle {
  cached ??= buildAgentBundle();
  return cached;
}
let cached: AgentBundle | undefined;
