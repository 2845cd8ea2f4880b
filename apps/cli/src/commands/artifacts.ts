import { ApiError, type ApiClient } from "../api-client";
import type { ArtifactFile } from "../artifact-download";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { formatBytes, renderTable } from "../render";

/** GET /v1/deployments/:id/artifacts, as the contract (docs/artifacts.md) has it. */
export interface ArtifactList {
  items: ArtifactFile[];
  totalBytes: number;
  deletedAt: string | null;
  deletedReason: "retention" | "owner" | string | null;
}

/** The deployment's artifacts; a 404 (no such deployment, or not the caller's) says so plainly. */
export async function fetchArtifactList(api: ApiClient, id: string): Promise<ArtifactList> {
  try {
    const list = await api.request<ArtifactList>("GET", `/v1/deployments/${encodeURIComponent(id)}/artifacts`);
    // sizes may come as strings (64-bit counts): numbers from here on
    const items = (list.items ?? []).map((f) => ({ ...f, sizeBytes: Number(f.sizeBytes) }));
    return {
      ...list,
      items,
      totalBytes: Number(list.totalBytes ?? items.reduce((n, f) => n + f.sizeBytes, 0)),
      deletedAt: list.deletedAt ?? null,
      deletedReason: list.deletedReason ?? null,
    };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new CliError(`no such deployment: ${id}`);
    throw err;
  }
}

/** Why a deployment has no files to list or pull: deleted (by retention or by its owner), or not uploaded yet. */
export function noArtifactsReason(id: string, list: ArtifactList): string {
  if (list.deletedAt) {
    const by =
      list.deletedReason === "retention"
        ? "by the retention policy (ARTIFACT_RETENTION_DAYS)"
        : list.deletedReason === "owner"
          ? "by their owner"
          : `(${list.deletedReason ?? "no reason given"})`;
    return `the artifacts of ${id} were deleted ${by} on ${list.deletedAt}`;
  }
  return `deployment ${id} has no artifacts yet: the pod uploads them when training ends (\`trainpod status ${id}\`)`;
}

/** `trainpod artifacts ID`: the run's files, their sizes and sha256, and the total. */
export async function listArtifacts(
  api: ApiClient,
  id: string,
  opts: { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const list = await fetchArtifactList(api, id);
  if (opts.json) {
    out.write(`${JSON.stringify(list, null, 2)}\n`);
    return EXIT.OK;
  }
  if (list.items.length === 0) {
    out.write(`${noArtifactsReason(id, list)}\n`);
    return EXIT.OK;
  }
  const rows = list.items.map((f) => [f.path, formatBytes(f.sizeBytes), f.sha256.slice(0, 12), f.uploadedAt ?? "-"]);
  out.write(`${renderTable([["PATH", "SIZE", "SHA256", "UPLOADED"], ...rows])}\n`);
  out.write(
    `${list.items.length} file${list.items.length === 1 ? "" : "s"}, ${formatBytes(list.totalBytes)} total (${list.totalBytes} bytes); \`trainpod pull ${id}\` downloads them\n`,
  );
  return EXIT.OK;
}
