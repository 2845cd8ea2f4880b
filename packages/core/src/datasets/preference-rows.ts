/**
 * Preference rows for DPO (issue 26 item 5), trl's preference format: `{"prompt", "chosen", "rejected"}` as strings
 * (format `preference`), or in chat form (`preference_chat`): `prompt` a non-empty array of messages (roles system,
 * user, assistant; string contents) ending with a user message, `chosen` and `rejected` each a non-empty array of
 * assistant messages. The pod agent checks the same rules with the same reasons
 * (pod-agent/trainpod_agent/ml/preference.py); pod-agent/tests/fixtures/datasets* holds the files both sides must
 * decide alike. Other keys are ignored.
 */
export const PREFERENCE_FORMATS = ["preference", "preference_chat"] as const;
export type PreferenceFormat = (typeof PREFERENCE_FORMATS)[number];

const PROMPT_ROLES = new Set(["system", "user", "assistant"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function promptReason(prompt: unknown[]): string | null {
  if (prompt.length === 0) return "prompt must be a string or a non-empty array of messages";
  for (let i = 0; i < prompt.length; i++) {
    const m = prompt[i];
    if (!isObject(m)) return `prompt[${i}] must be an object`;
    if (typeof m.role !== "string" || !PROMPT_ROLES.has(m.role))
      return `prompt[${i}].role must be one of system, user, assistant`;
    if (typeof m.content !== "string") return `prompt[${i}].content must be a string`;
  }
  return (prompt[prompt.length - 1] as { role: string }).role === "user" ? null : "prompt must end with a user message";
}

function answerReason(key: "chosen" | "rejected", answer: unknown): string | null {
  if (!Array.isArray(answer) || answer.length === 0) return `${key} must be a non-empty array of assistant messages`;
  for (let i = 0; i < answer.length; i++) {
    const m: unknown = answer[i];
    if (!isObject(m)) return `${key}[${i}] must be an object`;
    if (m.role !== "assistant") return `${key}[${i}].role must be assistant`;
    if (typeof m.content !== "string") return `${key}[${i}].content must be a string`;
  }
  return null;
}

/** A preference row's format, or the reason it is bad. */
export function preferenceVerdict(
  row: Record<string, unknown>,
): { ok: true; format: PreferenceFormat } | { ok: false; reason: string } {
  const { prompt } = row;
  if (typeof prompt === "string") {
    for (const key of ["chosen", "rejected"] as const)
      if (typeof row[key] !== "string") return { ok: false, reason: `${key} must be a string` };
    return { ok: true, format: "preference" };
  }
  if (!Array.isArray(prompt)) return { ok: false, reason: "prompt must be a string or a non-empty array of messages" };
  const reason = promptReason(prompt) ?? answerReason("chosen", row.chosen) ?? answerReason("rejected", row.rejected);
  return reason === null ? { ok: true, format: "preference_chat" } : { ok: false, reason };
}
