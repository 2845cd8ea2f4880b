import { mkdirSync } from "node:fs";
import path from "node:path";
import type { ApiClient } from "../api-client";
import { downloadArtifact, type Downloaded } from "../artifact-download";
import { assertRealInside, planTargets } from "../artifact-paths";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { PullProgress } from "../pull-progress";
import { formatBytes } from "../render";
import { fetchArtifactList, noArtifactsReason } from "./artifacts";

export interface PullOptions {
  json?: boolean;
  /** tries per file after a broken transfer (default 4) */
  retries?: number;
  backoffMs?: number;
}

export interface PullStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

/**
 * `trainpod pull ID [DIR]`: every artifact into DIR (default ./ID), keeping sub-paths, resuming
 * `.part` files, each checked against its sha256 before it takes its name. Refuses, before writing
 * anything, any listed path that would land outside DIR.
 */
export async function pull(
  api: ApiClient,
  id: string,
  dir: string | undefined,
  opts: PullOptions = {},
  io: PullStreams = { stdout: process.stdout, stderr: process.stderr },
): Promise<ExitCode> {
  const list = await fetchArtifactList(api, id);
  if (list.items.length === 0) throw new CliError(noArtifactsReason(id, list));
  const root = path.resolve(dir ?? id);
  const targets = planTargets(
    root,
    list.items.map((f) => f.path),
  );
  mkdirSync(root, { recursive: true });
  const progress = new PullProgress(io.stderr, list.items);
  const results: Downloaded[] = [];
  try {
    for (const file of list.items) {
      const target = targets.get(file.path) as string;
      mkdirSync(path.dirname(target), { recursive: true });
      assertRealInside(root, path.dirname(target), file.path);
      progress.start(file);
      const d = await downloadArtifact(api, id, file, target, {
        retries: opts.retries,
        backoffMs: opts.backoffMs,
        onProgress: (done) => progress.progress(done),
        onRetry: (why, attempt) => progress.retry(file, why, attempt),
      });
      progress.finish(d);
      results.push(d);
    }
  } finally {
    progress.stop();
  }
  const bytes = results.reduce((n, d) => n + d.sizeBytes, 0);
  if (opts.json) {
    io.stdout.write(
      `${JSON.stringify({ deploymentId: id, directory: root, totalBytes: bytes, files: results.map((d) => ({ path: d.path, sizeBytes: d.sizeBytes, sha256: d.sha256, outcome: d.outcome })) }, null, 2)}\n`,
    );
    return EXIT.OK;
  }
  const present = results.filter((d) => d.outcome === "present").length;
  const note = present > 0 ? ` (${present} already present)` : "";
  io.stdout.write(
    `${root}: ${results.length} file${results.length === 1 ? "" : "s"}${note}, ${bytes} bytes (${formatBytes(bytes)}), sha256 verified\n`,
  );
  return EXIT.OK;
}
