import type { PodLogLine } from "@trainpod/core";

/** One HTTP exchange as the client's fetch saw it (recorded under the spec recorder, so the two counts line up). */
export interface Exchange {
  method: string;
  url: string;
  /** "failed" when fetch threw (the caller aborted it, or the connection failed): a request with no answer */
  status: number | "failed";
  retryAfter: string | null;
}

/** A fetch that notes each answer's status and Retry-After (in order) before handing it on untouched. */
export function observingFetch(inner: typeof fetch, log: Exchange[]): typeof fetch {
  const observed = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const url = input instanceof Request ? input.url : String(input);
    let response: Response;
    try {
      response = await inner(input, init);
    } catch (err) {
      log.push({ method, url, status: "failed", retryAfter: null });
      throw err;
    }
    log.push({ method, url, status: response.status, retryAfter: response.headers.get("retry-after") });
    return response;
  };
  return observed as typeof fetch;
}

/** The rejection of `promise` (an Error saying so when it resolved instead). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value: unknown) => new Error(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 200)}`),
    (err: unknown) => err,
  );
}

/** Everything an error could leak through: message, stack, JSON, details, cause. */
export function serialise(err: unknown): string {
  if (!(err instanceof Error)) return JSON.stringify(err) ?? String(err);
  const { details } = err as Error & { details?: unknown };
  return [err.message, err.stack, JSON.stringify(err), JSON.stringify(details), String(err.cause)].join("\n");
}

/** Reads a log stream until `enough` says so (then aborts it), or until `max` lines. */
export async function readLines(
  open: (signal: AbortSignal) => AsyncGenerator<PodLogLine>,
  enough: (lines: PodLogLine[]) => boolean,
  max = 500,
): Promise<PodLogLine[]> {
  const controller = new AbortController();
  const lines: PodLogLine[] = [];
  try {
    for await (const line of open(controller.signal)) {
      lines.push(line);
      if (enough(lines) || lines.length >= max) break;
    }
  } finally {
    controller.abort();
  }
  return lines;
}

/** `<ISO timestamp with ms>/<12-digit sequence>`: the ids getPodLogs events carry. */
export const LOG_EVENT_ID = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\/\d{12}$/;

export const sequenceOf = (id: string | undefined): number => Number(id?.split("/")[1] ?? Number.NaN);
