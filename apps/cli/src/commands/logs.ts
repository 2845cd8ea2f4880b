import type { ApiClient } from "../api-client";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { SseHttpError, sseEvents } from "../sse";

export interface LogsOptions {
  follow?: boolean;
  source?: "container" | "system";
  tail?: string;
}

/** `trainpod logs ID [-f]`: the pod's own lines from RunPod; with -f it follows them (and resumes after a drop). */
export async function logs(
  api: ApiClient,
  id: string,
  opts: LogsOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const query = new URLSearchParams();
  if (opts.follow) query.set("follow", "1");
  if (opts.source) query.set("source", opts.source);
  if (opts.tail) query.set("tail", opts.tail);
  let lastEventId: string | undefined;
  for (let drops = 0; ;) {
    try {
      for await (const msg of sseEvents(api.url(`/v1/deployments/${encodeURIComponent(id)}/logs?${query.toString()}`), {
        headers: api.authHeaders,
        lastEventId,
      })) {
        if (msg.event === "end") return EXIT.OK;
        if (msg.event === "error") throw new CliError(`the log stream failed: ${msg.data}`);
        const line = JSON.parse(msg.data) as { ts: string; source: string; line: string };
        if (msg.id) lastEventId = msg.id;
        out.write(`${line.ts} [${line.source}] ${line.line}\n`);
      }
      return EXIT.OK;
    } catch (err) {
      if (err instanceof SseHttpError)
        throw new CliError(`logs: the API answered ${err.status}: ${err.body.slice(0, 300)}`);
      if (err instanceof CliError || !opts.follow || ++drops > 5) throw err;
    }
  }
}
