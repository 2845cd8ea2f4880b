export type DatasetFormat = "chat" | "prompt_completion";

const ROLES = new Set(["system", "user", "assistant"]);

export type LineVerdict = { ok: true; format: DatasetFormat } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function chatVerdict(messages: unknown): LineVerdict {
  if (!Array.isArray(messages) || messages.length === 0)
    return { ok: false, reason: "messages must be a non-empty array" };
  let assistant = false;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObject(m)) return { ok: false, reason: `messages[${i}] must be an object` };
    if (typeof m.role !== "string" || !ROLES.has(m.role)) {
      return { ok: false, reason: `messages[${i}].role must be one of system, user, assistant` };
    }
    if (typeof m.content !== "string") return { ok: false, reason: `messages[${i}].content must be a string` };
    if (m.role === "assistant") assistant = true;
  }
  if (!assistant) return { ok: false, reason: "messages must include an assistant message" };
  return { ok: true, format: "chat" };
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
  if ("messages" in value) return chatVerdict(value.messages);
  if ("prompt" in value || "completion" in value) {
    if (typeof value.prompt !== "string") return { ok: false, reason: "prompt must be a string" };
    if (typeof value.completion !== "string") return { ok: false, reason: "completion must be a string" };
    return { ok: true, format: "prompt_completion" };
  }
  return { ok: false, reason: 'unsupported shape: expected {"messages":[...]} or {"prompt":...,"completion":...}' };
}
