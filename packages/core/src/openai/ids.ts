import { AppError } from "../errors";

/**
 * OpenAI-style ids over trainpod's own (issue 33): a file is a dataset (`file-<uuid>`), a fine-tuning job a deployment
 * (`ftjob-<uuid>`), an event a deployment event (`ftevent-<n>`), a webhook endpoint `whe_<uuid>`. Each is read back
 * with its prefix or as the bare id; anything else is NOT_FOUND, as an unknown id is.
 */
export const OPENAI_ID_PREFIX = { file: "file-", job: "ftjob-", event: "ftevent-", endpoint: "whe_" } as const;
export type OpenAiIdKind = keyof typeof OPENAI_ID_PREFIX;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The OpenAI id of a trainpod id. */
export function openAiId(kind: OpenAiIdKind, id: string | bigint): string {
  return `${OPENAI_ID_PREFIX[kind]}${id.toString()}`;
}

const NOUN: Record<OpenAiIdKind, string> = {
  file: "file",
  job: "fine-tuning job",
  event: "event",
  endpoint: "webhook endpoint",
};

/** The trainpod uuid of an OpenAI id (prefixed or bare); NOT_FOUND naming `param` when it cannot be one. */
export function trainpodId(kind: Exclude<OpenAiIdKind, "event">, id: unknown, param?: string): string {
  const text = typeof id === "string" ? id : "";
  const bare = text.startsWith(OPENAI_ID_PREFIX[kind]) ? text.slice(OPENAI_ID_PREFIX[kind].length) : text;
  if (UUID.test(bare)) return bare.toLowerCase();
  throw new AppError("NOT_FOUND", `no such ${NOUN[kind]}: ${text.slice(0, 100)}`, {
    details: param ? { param } : undefined,
  });
}

/** An event id (a page's `after`) as the event row's bigint; VALIDATION_FAILED when it is not one. */
export function eventRowId(id: string): bigint {
  const bare = id.startsWith(OPENAI_ID_PREFIX.event) ? id.slice(OPENAI_ID_PREFIX.event.length) : id;
  if (!/^\d{1,19}$/.test(bare))
    throw new AppError("VALIDATION_FAILED", "after is not an event id", { details: { param: "after" } });
  return BigInt(bare);
}

/** Unix seconds, as OpenAI's `created_at` fields are. */
export function unixSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}
