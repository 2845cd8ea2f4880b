import { execFile } from "node:child_process";
import path from "node:path";

/** The bin that `npx trainpod` runs. */
export const CLI_BIN = path.resolve(__dirname, "../../apps/cli/bin/trainpod.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as its own process, stdin closed, no terminal, with only PATH and `env` in its environment. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI_BIN, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}
