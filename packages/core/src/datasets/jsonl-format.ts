import { messagesReason, toolsReason } from "./chat-messages";
import { PREFERENCE_FORMATS, preferenceVerdict } from "./preference-rows";

/** the formats a dataset may have: SFT's (chat, prompt_completion) and DPO's (preference-rows.ts) */
export const DATASET_FORMATS = ["chat", "prompt_completion", ...PREFERENCE_FORMATS] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type LineVerdict = { ok: true; format: DatasetFormat } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A chat row: its messages (tool calls included, chat-messages.ts), then its tools. */
function chatVerdict(row: Record<string, unknown>): LineVerdict {
  const reason = messagesReason(row.messages) ?? toolsReason(row.tools);
  return reason === null ? { ok: true, format: "chat" } : { ok: false, reason };
}

/** Checks one non-empty JSONL line against the supported fine-tuning shapes. */
export function checkLine(text: string): LineVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  if (!isObject(value)) return { ok: false, reason: "not a JSON object" };
  if ("messages" in value) return chatVerdict(value);
  if ("chosen" in value || "rejected" in value) return preferenceVerdict(value);
  if ("prompt" in value || "completion" in value) {
    if (typeof value.prompt !== "string") return { ok: false, reason: "prompt must be a string" };
    if (typeof value.completion !== "string") return { ok: false, reason: "completion must be a string" };
    return { ok: true, format: "prompt_completion" };
  }
  return {
    ok: false,
    reason:
      'unsupported shape: expected {"messages":[...]}, {"prompt":...,"completion":...} or {"prompt":...,"chosen":...,"rejected":...}',
  };
}
