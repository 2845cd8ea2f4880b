import type { Command } from "commander";
import type { ApiClient, Json } from "../api-client";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { renderTable } from "../render";

/** `trainpod admin cache create --dc EU-RO-1 --size 500`: the data centre's cache volume (admins). */
export async function createCache(
  api: ApiClient,
  opts: { dc?: string; size?: string; type?: string; json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const sizeGb = Number(opts.size);
  if (!opts.dc) throw new CliError("--dc is required (a RunPod data centre id, e.g. EU-RO-1)", EXIT.USAGE);
  if (!Number.isInteger(sizeGb) || sizeGb < 10 || sizeGb > 4096)
    throw new CliError("--size must be a whole number of GB from 10 to 4096", EXIT.USAGE);
  const body = { dataCenter: opts.dc, sizeGb, ...(opts.type ? { type: opts.type.toUpperCase() } : {}) };
  const v = await api.request<Json>("POST", "/v1/admin/cache-volumes", body);
  out.write(
    opts.json
      ? `${JSON.stringify(v, null, 2)}\n`
      : `cache volume ${v.id} in ${v.dataCenter}: ${v.sizeGb} GB, $${Number(v.monthUsd).toFixed(2)} a month\n`,
  );
  return EXIT.OK;
}

/** `trainpod admin cache list`: each data centre's cache volume and its monthly price. */
export async function listCaches(
  api: ApiClient,
  opts: { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const report = await api.request<Json>("GET", "/v1/admin/cache-volumes");
  if (opts.json) {
    out.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.OK;
  }
  const items = report.items as Json[];
  if (items.length === 0) {
    out.write("no cache volume: `trainpod admin cache create --dc EU-RO-1 --size 500`\n");
    return EXIT.OK;
  }
  const rows = [["ID", "DATA CENTRE", "SIZE GB", "TYPE", "USD/MONTH"]];
  for (const v of items)
    rows.push([v.id, v.dataCenter, String(v.sizeGb), v.type ?? "-", Number(v.monthUsd).toFixed(2)]);
  out.write(
    `${renderTable(rows)}\n${items.length} volume(s): $${Number(report.monthUsd).toFixed(2)} a month at $${report.usdPerGbMonth}/GB-month\n`,
  );
  return EXIT.OK;
}

/** `trainpod admin cache rm ID|DC`: deletes a cache volume (its packages and weights go with it). */
export async function removeCache(
  api: ApiClient,
  idOrDc: string,
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const r = await api.request<Json>("DELETE", `/v1/admin/cache-volumes/${encodeURIComponent(idOrDc)}`);
  out.write(`cache volume ${r.deleted} (${r.dataCenter}) deleted\n`);
  return EXIT.OK;
}

/** The `admin cache` commands, under `admin`. */
export function cacheCommands(
  admin: Command,
  api: () => ApiClient,
  done: (p: Promise<ExitCode>) => Promise<void>,
): void {
  const cache = admin
    .command("cache")
    .description("cache volumes: the trainer's packages and model weights on a RunPod network volume per data centre");
  cache
    .command("create")
    .requiredOption("--dc <id>", "the RunPod data centre, e.g. EU-RO-1")
    .requiredOption("--size <gb>", "GB, 10 to 4096 (it can only grow later)")
    .option("--type <tier>", "STANDARD or HIGH_PERFORMANCE (default: the data centre's)")
    .option("--json", "print JSON")
    .description("create the data centre's cache volume (admins; billed per GB-month until removed)")
    .action((opts) => done(createCache(api(), opts)));
  cache
    .command("list")
    .option("--json", "print JSON")
    .description("the cache volumes and their monthly price")
    .action((opts) => done(listCaches(api(), opts)));
  cache
    .command("rm")
    .argument("<id>", "the volume's id, or its data centre")
    .description("delete a cache volume (admins)")
    .action((id: string) => done(removeCache(api(), id)));
}
