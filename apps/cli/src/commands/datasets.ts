import path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import type { ApiClient, Json } from "../api-client";
import { EXIT, type ExitCode } from "../exit-codes";
import { renderTable } from "../render";

/** `datasets upload FILE`: streams the JSONL with a progress bar (on a terminal; plain lines otherwise). */
export async function uploadDataset(
  api: ApiClient,
  file: string,
  opts: { name?: string; json?: boolean },
): Promise<ExitCode> {
  const name = opts.name ?? path.basename(file);
  const live = process.stderr.isTTY === true;
  const bar = new SingleBar(
    { format: " uploading |{bar}| {percentage}% {value}/{total} bytes", hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  let lastQuarter = -1;
  const dataset = await api
    .upload(file, name, (sent, total) => {
      if (live) {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(sent);
        return;
      }
      const quarter = total === 0 ? 4 : Math.floor((sent / total) * 4);
      if (quarter !== lastQuarter) process.stderr.write(`uploading ${name}: ${sent}/${total} bytes\n`);
      lastQuarter = quarter;
    })
    .finally(() => started && bar.stop());
  if (opts.json) process.stdout.write(`${JSON.stringify(dataset, null, 2)}\n`);
  else
    process.stdout.write(
      `dataset ${dataset.id}: ${dataset.name}, ${dataset.format}, ${dataset.rowCount} rows, ${dataset.sizeBytes} bytes, sha256 ${dataset.sha256}\n`,
    );
  return EXIT.OK;
}

export async function listDatasets(api: ApiClient, opts: { json?: boolean; limit?: string }): Promise<ExitCode> {
  const page = await api.request<{ items: Json[] }>(
    "GET",
    `/v1/datasets?limit=${encodeURIComponent(opts.limit ?? "20")}`,
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
  else
    process.stdout.write(
      `${renderTable([["ID", "NAME", "FORMAT", "ROWS", "BYTES", "CREATED"], ...page.items.map((d) => [d.id, d.name, d.format, String(d.rowCount), String(d.sizeBytes), d.createdAt])])}\n`,
    );
  return EXIT.OK;
}
