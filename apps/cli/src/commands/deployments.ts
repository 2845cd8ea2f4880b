import type { ApiClient, Json } from "../api-client";
import { buildDeployRequest, type DeployFlags } from "../deploy-request";
import { CliError, EXIT, exitCodeForStatus, type ExitCode } from "../exit-codes";
import { confirm } from "../prompt";
import { renderDeployment, renderEstimate, renderEvent, renderTable } from "../render";
import { watchDeployment } from "../watch";
import { pull } from "./pull";

const print = (text: string) => process.stdout.write(`${text}\n`);

export interface DeployOptions extends DeployFlags {
  yes?: boolean;
  watch?: boolean;
  /** an alias of watch */
  wait?: boolean;
  /** wait, then pull the artifacts into this folder if the run SUCCEEDED */
  pull?: string;
  json?: boolean;
  idempotencyKey?: string;
}

/** `deploy`: estimate, pre-flight, confirmation (unless --yes), submit; with --watch (--wait), follow it; with --pull DIR, then download its artifacts. */
export async function deploy(api: ApiClient, flags: DeployOptions): Promise<ExitCode> {
  const { request, expectedRuntimeMinutes } = buildDeployRequest(flags);
  // pre-flight first: every problem at once, before any price talk
  await api.request("POST", "/v1/deployments/validate", request);
  const estimate = await api.request("POST", "/v1/deployments/estimate", {
    ...request,
    ...(expectedRuntimeMinutes ? { expectedRuntimeMinutes } : {}),
  });
  if (!flags.json) print(renderEstimate(estimate));
  if (!flags.yes && !(await confirm(`Deploy, spending at most $${Number(estimate.costCap.maxCostUsd).toFixed(2)}?`)))
    throw new CliError("not deployed");
  const headers: Record<string, string> = flags.idempotencyKey ? { "idempotency-key": flags.idempotencyKey } : {};
  const d = await api.request("POST", "/v1/deployments", request, headers);
  if (flags.json) print(JSON.stringify({ deployment: d, estimate }, null, 2));
  else print(`deployment ${d.id} ${d.status}`);
  if (!flags.watch && !flags.wait && flags.pull === undefined) return EXIT.OK;
  const code = finish(await watchDeployment(api, d.id));
  if (code !== EXIT.OK || flags.pull === undefined) return code;
  return pull(api, d.id, flags.pull);
}

export async function watch(api: ApiClient, id: string): Promise<ExitCode> {
  return finish(await watchDeployment(api, id));
}

function finish(d: Json): ExitCode {
  print(renderDeployment(d));
  return exitCodeForStatus(d.status);
}

export async function status(api: ApiClient, id: string, opts: { json?: boolean; events?: string }): Promise<ExitCode> {
  const d = await api.request("GET", `/v1/deployments/${encodeURIComponent(id)}`);
  if (opts.json) {
    print(JSON.stringify(d, null, 2));
    return EXIT.OK;
  }
  print(renderDeployment(d));
  const events = (d.events as Json[]).slice(-Number(opts.events ?? 10));
  if (events.length > 0)
    print(
      `  last events:\n${events
        .flatMap(renderEvent)
        .map((l) => `    ${l}`)
        .join("\n")}`,
    );
  return EXIT.OK;
}

export async function cancel(api: ApiClient, id: string): Promise<ExitCode> {
  const d = await api.request("POST", `/v1/deployments/${encodeURIComponent(id)}/cancel`);
  print(`deployment ${d.id} ${d.status}; its pod is being terminated`);
  return EXIT.OK;
}

export async function list(
  api: ApiClient,
  opts: { status?: string; limit?: string; json?: boolean },
): Promise<ExitCode> {
  const q = new URLSearchParams({
    limit: opts.limit ?? "20",
    ...(opts.status ? { status: opts.status.toUpperCase() } : {}),
  });
  const page = await api.request<{ items: Json[] }>("GET", `/v1/deployments?${q}`);
  if (opts.json) {
    print(JSON.stringify(page, null, 2));
    return EXIT.OK;
  }
  const rows = page.items.map((d) => [
    d.id,
    d.status,
    d.baseModel,
    d.pod?.gpuTypeId ?? d.gpuTypeIds[0] ?? "",
    d.costUsd ?? "-",
    d.timeToFirstStep?.seconds == null ? "-" : `${d.timeToFirstStep.seconds}s`,
    d.timestamps.createdAt,
  ]);
  print(
    rows.length === 0
      ? "no deployments"
      : renderTable([["ID", "STATUS", "MODEL", "GPU", "COST USD", "FIRST STEP", "CREATED"], ...rows]),
  );
  return EXIT.OK;
}
