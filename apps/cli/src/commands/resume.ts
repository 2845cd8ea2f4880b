import type { ApiClient, Json } from "../api-client";
import { EXIT, exitCodeForStatus, type ExitCode } from "../exit-codes";
import { renderDeployment } from "../render";
import { watchDeployment } from "../watch";

const print = (text: string) => process.stdout.write(`${text}\n`);

/**
 * `resume ID`: an interrupted run (FAILED or CANCELLED) again from its last checkpoint, as a new attempt linked to
 * it (POST /v1/deployments/:id/resume); with --watch, followed to its end.
 */
export async function resume(api: ApiClient, id: string, opts: { watch?: boolean; json?: boolean }): Promise<ExitCode> {
  const d = await api.request<Json>("POST", `/v1/deployments/${encodeURIComponent(id)}/resume`);
  if (opts.json) print(JSON.stringify(d, null, 2));
  else
    print(
      `deployment ${d.id} ${d.status}: attempt ${d.resume?.attempt ?? "?"}, resumes ${id} from step ` +
        `${d.resume?.resumedFromStep ?? "?"} (${d.resume?.resumedFromPath ?? "?"})`,
    );
  if (!opts.watch) return EXIT.OK;
  const end = await watchDeployment(api, d.id);
  print(renderDeployment(end));
  return exitCodeForStatus(end.status);
}
